"""leaderwatch.tablestore: every RocksDB database of a worker shares one memory budget."""
import os
import time

import pytest

rocksdict = pytest.importorskip("rocksdict")

from leaderwatch.settings import Settings  # noqa: E402
from leaderwatch.tablestore import SharedBudgetOptions, shared_budget  # noqa: E402


def test_ten_databases_stay_within_one_budget_and_keep_every_write(tmp_path):
    """10 databases (5 tables x 2 partitions), the default settings, 60 MB of writes: under
    per-database limits (Faust's way) memory grows with every database's memtables; under the
    shared budget the memtables of all stay within it (flushed to disk) and every value reads back."""
    settings = Settings()
    budget = settings.rocksdb_memory_bytes
    options = SharedBudgetOptions(**settings.table_options, use_rocksdict=True)
    cache, write_buffers = shared_budget(budget)
    assert shared_budget(budget) == (cache, write_buffers)  # one per process and budget
    assert write_buffers.enabled() and write_buffers.get_buffer_size() == budget // 2
    databases = [options.open(tmp_path / f"db-{i}") for i in range(10)]
    value = os.urandom(1000)
    peak = 0
    for n in range(60_000):
        databases[n % 10][f"key-{n}".encode()] = value
        if n % 500 == 0:
            time.sleep(0.005)  # a worker writes a few KB per page: flushes keep up; a loop needs a pause
            peak = max(peak, write_buffers.get_usage())
    assert 0 < peak <= budget, peak
    assert cache.get_usage() <= budget * 1.15
    assert all(databases[n % 10][f"key-{n}".encode()] == value for n in range(0, 60_000, 97))
    for db in databases:
        db.close()
