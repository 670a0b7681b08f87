"""A process hands freed memory back: malloc_trimmer() on glibc returns the holes page-sized
buffers leave between longer-lived blocks, which free() alone keeps."""
from __future__ import annotations

import subprocess
import sys

import pytest

from leaderwatch.malloc import malloc_trimmer

SCENARIO = """
import orjson
from leaderwatch.malloc import malloc_trimmer

def rss_mib():
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS")) / 1024

trim = malloc_trimmer()
block = bytearray(4 * 1024 * 1024)
del block  # an mmapped block freed: glibc raises its mmap threshold, as a worker's first large pages do
pages, kept = [], []
for i in range(400):
    pages.append("x" * 200_000 + str(i))  # a page body on the heap
    kept.append("y" * 1000 + str(i))  # a smaller block that outlives it (a record, a table row)
del pages
freed = rss_mib()
trim(0)
print(orjson.dumps({"freed": freed, "trimmed": rss_mib()}).decode())
"""


@pytest.mark.skipif(malloc_trimmer() is None, reason="the C library has no malloc_trim (not glibc)")
def test_malloc_trim_returns_what_free_keeps():
    import orjson

    figures = orjson.loads(subprocess.run([sys.executable, "-c", SCENARIO], capture_output=True, check=True).stdout)
    # 400 pages of 200 KB freed, 1 KB blocks between them: free() keeps ~40 MB, the trim returns most
    assert figures["freed"] - figures["trimmed"] > 20, figures
