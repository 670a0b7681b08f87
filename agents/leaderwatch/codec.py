"""Faust codecs: "orjson" for the records on topics and the tables' values (plain JSON dicts),
and Faust's own "json" (table keys, changelogs) with right-sized output.

orjson >= 3.12 returns bytes whose buffer is at least ~4 KB whatever the length (it over-allocates
and does not shrink; sys.getsizeof shows only the length), so every encoded key a store keeps
costs 4 KB: Faust's RocksDB store keeps the last 1000 keys of each table in its key index (5
tables: ~20 MB). Outputs that are kept are copied to their own size.
"""
from __future__ import annotations

import orjson
from faust.serializers import codecs


def right_sized(data: bytes) -> bytes:
    """The same bytes in a buffer of their own length (one copy)."""
    return bytes(memoryview(data))


class OrjsonCodec(codecs.Codec):
    """bytes <-> Python objects with orjson (dataclass records are written natively). Sent and
    let go, so not right-sized."""

    def _dumps(self, obj) -> bytes:
        return orjson.dumps(obj)

    def _loads(self, data: bytes):
        return orjson.loads(data)


class RightSizedJsonCodec(codecs.json):
    """Faust's "json" codec (its options and types), each output right-sized: table keys live long."""

    def _dumps(self, obj) -> bytes:
        return right_sized(super()._dumps(obj))


def register_codec() -> None:
    """Make "orjson" a Faust serializer name and "json" right-sized (idempotent)."""
    codecs.register("orjson", OrjsonCodec())
    codecs.register("json", RightSizedJsonCodec())
