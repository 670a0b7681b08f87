"""Child processes for a CPU-bound pure core, driven from the event loop through pipes.

  parent (event loop)  --frame: pickle(value)-->  child `python -m leaderwatch.stages.pool`
                       <--frame: pickle((kind, result))--  kind "ok" | "rejected" | "error"
  frame = 4-byte big-endian length + payload; the first frame to a child is
  pickle((work, args, trim_seconds, freeze)), `work` a "module:function" name the child imports
  (the parent never imports what the work needs: trafilatura stays out of the worker's own
  process); a child hands its freed memory back (glibc malloc_trim)
  at most every trim_seconds, between values (0: never), and with `freeze` leaves what it holds
  once `work` is loaded out of later full garbage collections (leaderwatch.gcpauses), as the worker does.

The first child is started as a new interpreter; it loads `work` and leaves what it holds out of
garbage collection, and every other child is forked from it (on request, over a Unix socket that
carries the new child's two pipe ends): the modules the core imports (trafilatura, lxml,
htmldate) and their frozen objects are then shared copy-on-write instead of loaded once per child
(two children after cleaning the 157 shared pages twice: 106.4-109.5 MiB proportional as two
interpreters, 90.5-97.3 with the second forked, three runs each). A child that dies is forked
again from the first; if the first dies, the next child started is a new interpreter and becomes
the source of later forks.

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

import array
import asyncio
import collections
import contextlib
import fcntl
import importlib
import logging
import os
import pickle
import select
import signal
import socket
import struct
import sys
from typing import Any

log = logging.getLogger(__name__)
_LENGTH = struct.Struct(">I")
_PID = struct.Struct(">i")
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
        self.children = []
        for _ in range(self.processes):
            self.children.append(await self._new_child())

    async def _new_child(self) -> "_Child":
        """A child forked from the source child, or a new interpreter that becomes the source."""
        source = next((child for child in self.children if child.control is not None and not child.exited), None)
        if source is not None:
            try:
                return await source.fork()
            except (OSError, ConnectionError, EOFError) as exc:  # the source died meanwhile
                log.warning("clean process: fork failed (%s); starting a new interpreter", exc)
                source.control.close()
                source.control = None
        return await _Child.start(self.setup)

    async def submit(self, value: Any) -> asyncio.Future:
        for index, child in enumerate(self.children):
            if child.exited:
                log.warning("clean process %d (pid %d) exited; starting a new one", index, child.pid)
                if child.control is not None:
                    child.control.close()
                    child.control = None
                self.children[index] = await self._new_child()
        child = min(self.children, key=lambda each: len(each.pending))
        return await child.submit(value)

    async def stop(self) -> None:
        for child in self.children:
            await child.stop()


class _Child:
    """One child: `stdin` (StreamWriter) carries values to it, `stdout` (StreamReader) its answers.
    The source child (a new interpreter) also has `control`, the socket other children are forked over."""

    def __init__(self, pid: int, stdin: asyncio.StreamWriter, stdout: asyncio.StreamReader,
                 process: asyncio.subprocess.Process | None = None, control: socket.socket | None = None):
        self.pid, self.stdin, self.stdout, self.process, self.control = pid, stdin, stdout, process, control
        self.pending: collections.deque[asyncio.Future] = collections.deque()
        self.exited = False
        self.reader = asyncio.ensure_future(self._read_answers())

    @classmethod
    async def start(cls, setup: bytes) -> "_Child":
        """A new interpreter running serve(), the source of later forks."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "leaderwatch.stages.pool", str(theirs.fileno()),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, pass_fds=(theirs.fileno(),))
        finally:
            theirs.close()
        ours.setblocking(False)
        widen_pipe(process.stdin.get_extra_info("pipe").fileno())
        child = cls(process.pid, process.stdin, process.stdout, process, ours)
        await child._write(setup)
        return child

    async def fork(self) -> "_Child":
        """A child forked from this (source) child: its two pipe ends go over the control socket,
        the source forks between two values and answers with the new child's pid."""
        loop = asyncio.get_running_loop()
        values_out, values_in = os.pipe()  # read end: the new child's; write end: ours
        answers_out, answers_in = os.pipe()
        try:
            widen_pipe(values_in)
            self.control.sendmsg([b"F"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [values_out, answers_in]))])
        finally:
            os.close(values_out)
            os.close(answers_in)
        reply = b""
        while len(reply) < _PID.size:
            chunk = await loop.sock_recv(self.control, _PID.size - len(reply))
            if not chunk:
                os.close(values_in)
                os.close(answers_out)
                raise EOFError("the source clean process exited before forking")
            reply += chunk
        pid, = _PID.unpack(reply)
        stdout = asyncio.StreamReader(limit=2 ** 31 - 1)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdout), os.fdopen(answers_out, "rb", 0))
        transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, os.fdopen(values_in, "wb", 0))
        stdin = asyncio.StreamWriter(transport, protocol, None, loop)
        return _Child(pid, stdin, stdout)

    async def submit(self, value: Any) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        try:
            await self._write(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        except (ConnectionError, RuntimeError) as exc:  # the child is gone: the reader fails what it held
            log.warning("clean process: write failed: %s", exc)
        return future

    async def _write(self, payload: bytes) -> None:
        self.stdin.write(_LENGTH.pack(len(payload)) + payload)
        await self.stdin.drain()

    async def _read_answers(self) -> None:
        try:
            while True:
                size, = _LENGTH.unpack(await self.stdout.readexactly(_LENGTH.size))
                kind, result = pickle.loads(await self.stdout.readexactly(size))
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
        if self.process is not None:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
        elif not self.exited:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        self.stdin.close()
        if self.control is not None:
            self.control.close()
        self.reader.cancel()


def widen_pipe(fd: int, size: int = PIPE_BYTES) -> int:
    """Ask for a pipe of `size` bytes (Linux F_SETPIPE_SZ); the size the pipe has. Over the
    system's limits it keeps the one it had (with waits, see above)."""
    try:
        return fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
    except (OSError, AttributeError):  # EPERM over pipe-max-size or the user's pipe pages; not Linux
        log.info("clean process: the pipe stays at its size (F_SETPIPE_SZ %d refused)", size)
        return fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ) if hasattr(fcntl, "F_GETPIPE_SZ") else 0


class _Frames:
    """Length-prefixed frames read from a file descriptor, unbuffered by Python so that select()
    on the descriptor tells the truth about what is waiting."""

    def __init__(self, fd: int):
        self.fd, self.buffer = fd, bytearray()

    def complete(self) -> bool:
        return len(self.buffer) >= _LENGTH.size and len(self.buffer) >= _LENGTH.size + _LENGTH.unpack_from(self.buffer)[0]

    def read(self) -> bytes | None:
        """The next frame; None at the end of the input."""
        while not self.complete():
            chunk = os.read(self.fd, PIPE_BYTES)
            if not chunk:
                return None
            self.buffer += chunk
        size = _LENGTH.unpack_from(self.buffer)[0]
        frame = bytes(self.buffer[_LENGTH.size:_LENGTH.size + size])
        del self.buffer[:_LENGTH.size + size]
        return frame


def serve() -> None:
    """The source child: the setup frame from stdin, `work` loaded, then values answered, and a
    child forked whenever the parent asks on the control socket (argv[1], a descriptor number)."""
    from leaderwatch.gcpauses import freeze_startup_objects

    control = socket.socket(fileno=int(sys.argv[1])) if len(sys.argv) > 1 else None
    answers = os.dup(1)
    os.dup2(2, 1)  # anything the core prints goes to stderr, never into the answers
    frames = _Frames(0)
    setup = frames.read()
    if setup is None:
        return
    work_name, args, trim_seconds, freeze = pickle.loads(setup)
    module, _, function = work_name.partition(":")
    work = getattr(importlib.import_module(module), function)
    if freeze:
        freeze_startup_objects()
    if control is not None:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked children are reaped by the system
    _answer_values(work, args, trim_seconds, frames, answers, control)


def _answer_values(work, args: tuple, trim_seconds: float, frames: _Frames, answers: int,
                   control: socket.socket | None) -> None:
    import time

    from leaderwatch.malloc import malloc_trimmer
    from leaderwatch.records import Rejected

    trim = malloc_trimmer() if trim_seconds > 0 else None
    trimmed_at = time.monotonic()
    while True:
        if control is not None and not frames.complete():
            ready, _, _ = select.select([frames.fd, control], [], [])
            if control in ready:
                if not _fork_on_request(control, work, args, trim_seconds, frames, answers):
                    control = None  # the parent closed it
                continue
        frame = frames.read()
        if frame is None:
            return
        try:
            answer = ("ok", work(pickle.loads(frame), *args))
        except Rejected as exc:
            answer = ("rejected", exc)
        except Exception as exc:  # the parent dead-letters it as internal_error
            answer = ("error", f"{type(exc).__name__}: {exc}")
        payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        _write_all(answers, _LENGTH.pack(len(payload)) + payload)
        if trim and time.monotonic() - trimmed_at >= trim_seconds:
            trim(0)
            trimmed_at = time.monotonic()


def _fork_on_request(control: socket.socket, work, args, trim_seconds, frames: _Frames, answers: int) -> bool:
    """One fork request: two descriptors in, a child forked onto them, its pid out. False at the
    end of the control socket."""
    fds = array.array("i")
    message, ancillary, _, _ = control.recvmsg(1, socket.CMSG_SPACE(2 * fds.itemsize))
    if not message:
        return False
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    values, child_answers = fds[0], fds[1]
    pid = os.fork()
    if pid == 0:  # the new child: its own pipes only, never the source's
        try:
            control.close()
            os.close(frames.fd)
            os.close(answers)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _answer_values(work, args, trim_seconds, _Frames(values), child_answers, None)
        finally:
            os._exit(0)
    os.close(values)
    os.close(child_answers)
    control.sendall(_PID.pack(pid))
    return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


if __name__ == "__main__":
    serve()
