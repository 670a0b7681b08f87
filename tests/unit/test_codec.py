"""leaderwatch.codec: what a store keeps of an encoded key costs its own size, not orjson's buffer."""
import tracemalloc

from faust.serializers import codecs

from leaderwatch.codec import register_codec


def test_table_keys_are_kept_at_their_own_size():
    """Faust encodes table keys with its "json" codec; a RocksDB store keeps the last 1000 per
    table in its key index. orjson >= 3.12 gives each output a buffer of ~4 KB."""
    register_codec()
    keys = [f"Q{i}|{i:024x}" for i in range(2000)]
    tracemalloc.start()
    try:
        kept = [codecs.dumps("json", key) for key in keys]
        size = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert kept[7] == b'"Q7|000000000000000000000007"'
    assert codecs.loads("json", kept[7]) == keys[7]
    assert size / len(keys) < 200, size / len(keys)  # ~70 bytes each; 4 KB each unsized
