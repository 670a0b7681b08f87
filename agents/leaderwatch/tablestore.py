"""Faust's RocksDB table store with one memory budget for the whole worker process.

Faust opens one RocksDB database per table partition, each with its own block cache and write
buffers, so a worker's memory grows with tables x partitions and with every write a memtable
holds until it fills (a worker with 5 tables x 2 partitions at 4 MiB x 2 memtables and 8 MiB of
cache each could reach 160 MiB, and grew ~4 KB per page on the way there). Here every database
of the process shares:
  - one block cache of `memory_bytes` (the table option; Settings.rocksdb_memory_bytes), with
    index and filter blocks in it, not beside it;
  - one write buffer manager whose memtables are charged to that cache, limited to half of it:
    past that the database being written flushes its memtable to disk.
So RocksDB's memory is about `memory_bytes`, however many tables, partitions or pages. The data on
disk, its layout and the Faust store API are the same as `rocksdb://`; Settings.faust_store
names this store `leaderwatch-rocksdb://` (registered as a `faust.stores` entry point).
"""
from __future__ import annotations

import functools
from typing import Any

import rocksdict
from faust.stores import rocksdb as faust_rocksdb


@functools.cache
def shared_budget(memory_bytes: int) -> tuple[rocksdict.Cache, rocksdict.WriteBufferManager]:
    """The process's block cache and write buffer manager for this budget (made on first use)."""
    cache = rocksdict.Cache(memory_bytes)
    return cache, rocksdict.WriteBufferManager.new_write_buffer_manager_with_cache(memory_bytes // 2, False, cache)


class SharedBudgetOptions(faust_rocksdb.RocksDBOptions):
    """Faust's options for one partition's database, its caches replaced by the shared budget."""

    def as_options(self) -> rocksdict.Options:
        cache, write_buffers = shared_budget(int(self.extra_options["memory_bytes"]))
        options = rocksdict.Options(raw_mode=True)
        options.create_if_missing(True)
        options.set_max_open_files(self.max_open_files)
        options.set_write_buffer_size(self.write_buffer_size)
        options.set_max_write_buffer_number(self.max_write_buffer_number)
        options.set_target_file_size_base(self.target_file_size_base)
        options.set_write_buffer_manager(write_buffers)
        table = rocksdict.BlockBasedOptions()
        table.set_bloom_filter(self.bloom_filter_size, True)
        table.set_block_cache(cache)
        table.set_cache_index_and_filter_blocks(True)
        table.set_index_type(rocksdict.BlockBasedIndexType.binary_search())
        options.set_block_based_table_factory(table)
        return options


class Store(faust_rocksdb.Store):
    """faust.stores.rocksdb.Store (rocksdict driver) whose databases share one memory budget."""

    def __init__(self, url: Any, app: Any, table: Any, **kwargs: Any) -> None:
        options = kwargs.get("options") or {}
        if "memory_bytes" not in options:
            raise ValueError("leaderwatch-rocksdb:// needs the table option memory_bytes (Settings.table_options)")
        options["driver"] = "rocksdict"
        super().__init__(url, app, table, **kwargs)
        # Faust popped read_only and driver from `options` (the table's own dict) above
        self.rocksdb_options = SharedBudgetOptions(**self.options, use_rocksdict=True)
