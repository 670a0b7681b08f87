"""Child processes for a CPU-bound pure core, driven from the event loop through pipes.

  parent (event loop)  --frame: pickle(value)-->  child `python -m leaderwatch.stages.pool`
                       <--frame: pickle((kind, result))--  kind "ok" | "rejected" | "error"
  frame = 4-byte big-endian length + payload; the first frame to a child is
  pickle((work, args, trim_seconds, freeze)), `work` a "module:function" name the child imports
  (the parent never imports what the work needs: trafilatura stays out of the worker's own
  process); a child hands its freed memory back (glibc malloc_trim)
  at most every trim_seconds, between values (0: never), and with `freeze` leaves what it holds
  once `work` is loaded out of later full garbage collections (leaderwatch.gcpauses), as the worker does.

Each child's pipe from the parent holds PIPE_BYTES (1 MiB; Linux's 64 KiB default held a third
of a page): the page queued behind the one a child is cleaning is then in the pipe whole, and the
child starts on it as soon as it is done. With 64 KiB it read the first part and waited for the
event loop to write the rest: a median 1-3 ms a page (p90 7-50 ms) of a ~30 ms page, against
0.07 ms with 1 MiB (scripts/bench, two cores, two children).

Why not concurrent.futures.ProcessPoolExecutor: its feeder and result threads take the GIL from
the worker's event loop and its consumer thread for every page (one core, scripts/bench: 7 ms of
CPU more per page than cleaning in the loop). Here the pipes are read and written by the event
loop itself. A child that dies fails only the pages it held (each becomes a dead letter) and is
started again. The child imports the pure core only, no Faust.
"""
from __future__ import annotations

import asyncio
import collections
import fcntl
import importlib
import logging
import os
import pickle
import struct
import sys
from typing import Any

log = logging.getLogger(__name__)
_LENGTH = struct.Struct(">I")
PIPE_BYTES = 1 << 20  # /proc/sys/fs/pipe-max-size's default: what an unprivileged process may ask for


class ChildExited(RuntimeError):
    """The child process holding a value exited before answering."""


class ProcessPool:
    """`processes` children each running `work(value, *args)`, `work` named "module:function";
    `await pool.submit(value)` -> a future of the result (or of Rejected / ChildExited / RuntimeError)."""

    def __init__(self, work: str, args: tuple, processes: int, trim_seconds: float = 0.0, freeze: bool = False):
        self.setup = pickle.dumps((work, args, trim_seconds, freeze), protocol=pickle.HIGHEST_PROTOCOL)
        self.processes = processes
        self.children: list[_Child] = []

    async def start(self) -> None:
        self.children = [await _Child.start(self.setup) for _ in range(self.processes)]

    async def submit(self, value: Any) -> asyncio.Future:
        for index, child in enumerate(self.children):
            if child.exited:
                log.warning("clean process %d exited (code %s); starting a new one", index, child.process.returncode)
                self.children[index] = await _Child.start(self.setup)
        child = min(self.children, key=lambda each: len(each.pending))
        return await child.submit(value)

    async def stop(self) -> None:
        for child in self.children:
            await child.stop()


class _Child:
    def __init__(self, process: asyncio.subprocess.Process):
        self.process = process
        self.pending: collections.deque[asyncio.Future] = collections.deque()
        self.exited = False
        self.reader = asyncio.ensure_future(self._read_answers())

    @classmethod
    async def start(cls, setup: bytes) -> "_Child":
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "leaderwatch.stages.pool",
                                                       stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        widen_pipe(process.stdin.get_extra_info("pipe").fileno())
        child = cls(process)
        await child._write(setup)
        return child

    async def submit(self, value: Any) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        try:
            await self._write(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        except (ConnectionError, RuntimeError) as exc:  # the child is gone: the reader fails what it held
            log.warning("clean process: write failed: %s", exc)
        return future

    async def _write(self, payload: bytes) -> None:
        self.process.stdin.write(_LENGTH.pack(len(payload)) + payload)
        await self.process.stdin.drain()

    async def _read_answers(self) -> None:
        try:
            while True:
                size, = _LENGTH.unpack(await self.process.stdout.readexactly(_LENGTH.size))
                kind, result = pickle.loads(await self.process.stdout.readexactly(size))
                future = self.pending.popleft()
                if future.done():
                    continue
                if kind == "ok":
                    future.set_result(result)
                elif kind == "rejected":
                    future.set_exception(result)
                else:
                    future.set_exception(RuntimeError(result))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.exited = True
            while self.pending:
                future = self.pending.popleft()
                if not future.done():
                    future.set_exception(ChildExited("the clean process exited before answering"))

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self.reader.cancel()


def widen_pipe(fd: int, size: int = PIPE_BYTES) -> int:
    """Ask for a pipe of `size` bytes (Linux F_SETPIPE_SZ); the size the pipe has. Over the
    system's limits it keeps the one it had (with waits, see above)."""
    try:
        return fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
    except (OSError, AttributeError):  # EPERM over pipe-max-size or the user's pipe pages; not Linux
        log.info("clean process: the pipe stays at its size (F_SETPIPE_SZ %d refused)", size)
        return fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ) if hasattr(fcntl, "F_GETPIPE_SZ") else 0


def serve() -> None:
    """The child's loop: frames of values from stdin, frames of answers to stdout."""
    import time

    from leaderwatch.gcpauses import freeze_startup_objects
    from leaderwatch.malloc import malloc_trimmer
    from leaderwatch.records import Rejected

    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything the core prints goes to stderr, never into the answers
    requests = sys.stdin.buffer

    def read_frame() -> bytes | None:
        head = requests.read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            return None
        return requests.read(_LENGTH.unpack(head)[0])

    work_name, args, trim_seconds, freeze = pickle.loads(read_frame())
    module, _, function = work_name.partition(":")
    work = getattr(importlib.import_module(module), function)
    if freeze:
        freeze_startup_objects()
    trim = malloc_trimmer() if trim_seconds > 0 else None
    trimmed_at = time.monotonic()
    while (frame := read_frame()) is not None:
        try:
            answer = ("ok", work(pickle.loads(frame), *args))
        except Rejected as exc:
            answer = ("rejected", exc)
        except Exception as exc:  # the parent dead-letters it as internal_error
            answer = ("error", f"{type(exc).__name__}: {exc}")
        payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        answers.write(_LENGTH.pack(len(payload)) + payload)
        answers.flush()
        if trim and time.monotonic() - trimmed_at >= trim_seconds:
            trim(0)
            trimmed_at = time.monotonic()


if __name__ == "__main__":
    serve()
