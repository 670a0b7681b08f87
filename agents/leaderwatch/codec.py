"""The orjson codec for Faust ("orjson"): the tables' values (plain JSON dicts) and any record."""
from __future__ import annotations

import orjson
from faust.serializers import codecs


class OrjsonCodec(codecs.Codec):
    """bytes <-> Python objects with orjson (dataclass records are written natively)."""

    def _dumps(self, obj) -> bytes:
        return orjson.dumps(obj)

    def _loads(self, data: bytes):
        return orjson.loads(data)


def register_codec() -> None:
    """Make "orjson" a Faust serializer name (idempotent)."""
    codecs.register("orjson", OrjsonCodec())
