"""Files -> pages.raw: read .html, .html.gz, .htm, .txt (and .txt.gz) pages into PageFetched envelopes.

page_envelope() is pure; publish_pages() sends with a plain aiokafka producer and a progress bar.
"""
from __future__ import annotations

import gzip
import os
import sys
import zlib
from pathlib import Path
from typing import Iterable, Iterator

import orjson

from leaderwatch.pipeline.clean import decode_bytes
from leaderwatch.times import to_iso, utc_now_iso
from leaderwatch.records import Rejected, encode
from leaderwatch.kafka.clients import new_producer

PAGE_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz", ".txt", ".txt.gz")
SAMPLES_DIR = Path(__file__).resolve().parents[1] / "samples"


def iter_page_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files as given, folders walked (sorted) for page files. A page name that is not a regular
    file (a symlink loop, a dangling link, a FIFO) is yielded too: reading it fails, and ingest
    dead-letters it instead of skipping it without a word."""
    for path in map(Path, paths):
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.name.lower().endswith(PAGE_SUFFIXES) and not p.is_dir())
        elif path.exists() or path.is_symlink():
            yield path
        else:
            raise FileNotFoundError(f"no such page file or folder: {path}")


def read_sidecar(path: Path) -> dict:
    """Optional <page>.meta.json next to a page: {"url", "published_at"} overrides."""
    base = path.name
    for suffix in (".gz", ".html", ".htm", ".txt"):
        base = base.removesuffix(suffix)
    meta = path.with_name(base + ".meta.json")
    if not meta.exists():
        return {}
    fields = orjson.loads(read_bounded(meta, SIDECAR_MAX_BYTES))
    if not isinstance(fields, dict) or any(not isinstance(fields.get(k), (str, type(None))) for k in ("url", "published_at")):
        raise ValueError(f"{meta}: not a JSON object with string url / published_at")
    return fields


SIDECAR_MAX_BYTES = 64 * 1024
MAX_FILE_BYTES = 64 * 1024 * 1024  # page_envelope's default limit on a page's bytes (inflated)


def read_bounded(path: Path, limit: int) -> bytes:
    """A regular file's bytes, inflated if it is .gz, at most `limit` of them (else Rejected
    "too_large": a gzip bomb stops there). Not a regular file (FIFO, device, symlink loop): OSError."""
    if not path.is_file():
        raise OSError(f"not a regular file: {display_path(path)}")
    with open(path, "rb") as handle:
        reader = gzip.GzipFile(fileobj=handle) if path.name.endswith(".gz") else handle
        raw = reader.read(limit + 1)
    if len(raw) > limit:
        raise Rejected("too_large", f"{display_path(path)}: more than {limit} bytes" + (" inflated" if path.name.endswith(".gz") else ""))
    return raw


def display_path(path) -> str:
    """A path as valid UTF-8 text (a file name that is not UTF-8 gets \\x escapes)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def page_envelope(path: Path, published: str | None = None, backfill: bool = False, fetched_at: str | None = None,
                  max_bytes: int = MAX_FILE_BYTES) -> dict:
    """A page file -> a pages.raw v1 envelope (bytes decoded with charset detection); `published`
    is the date for a page whose sidecar gives none; more than `max_bytes` (inflated): Rejected."""
    raw = read_bounded(path, max_bytes)
    name = path.name.removesuffix(".gz")
    meta = read_sidecar(path)
    return {
        "url": meta.get("url") or path.resolve().as_uri(),
        "fetched_at": fetched_at or utc_now_iso(),
        "published_at": meta.get("published_at") or to_iso(published),
        "body": decode_bytes(raw),
        "content_type": "text/plain" if name.endswith(".txt") else "text/html",
        "source": display_path(path),
        "backfill": backfill,
    }


async def publish_pages(settings, files: list[Path], published: str | None = None, backfill: bool = False,
                        show_progress: bool = True) -> int:
    """Send every file to pages.raw (key: its URL); returns how many were sent. A file that cannot
    be read, or whose envelope exceeds the producer's request limit, goes to pages.dead instead
    (stage "ingest", reason unreadable / too_large) and the rest go on."""
    from rich.progress import Progress

    producer = new_producer(settings)
    await producer.start()
    sent = 0
    try:
        with Progress(disable=not show_progress, transient=True) as progress:
            task = progress.add_task("ingest", total=len(files))
            for path in files:
                try:
                    envelope = page_envelope(path, published, backfill, max_bytes=settings.producer_max_request_size)
                    payload = orjson.dumps(envelope)
                    if len(payload) > settings.producer_max_request_size - ENVELOPE_OVERHEAD:
                        raise Rejected("too_large", f"{display_path(path)}: envelope of {len(payload)} bytes exceeds the producer limit "
                                                    f"of {settings.producer_max_request_size} (LEADERWATCH_PRODUCER_MAX_REQUEST_SIZE)")
                except (OSError, EOFError, zlib.error, ValueError, Rejected) as exc:
                    reason = exc.reason if isinstance(exc, Rejected) else "unreadable"
                    error = display_path(str(exc))
                    await producer.send(settings.topic_dead, ingest_dead_letter(path, reason, error, settings),
                                        key=display_path(path).encode("utf-8"))
                    print(f"warning: {display_path(path)}: {reason}: {error} (sent to {settings.topic_dead})", file=sys.stderr)
                else:
                    await producer.send(settings.topic_raw, payload, key=envelope["url"].encode("utf-8"))
                    sent += 1
                progress.advance(task)
        await producer.flush()
    finally:
        await producer.stop()
    return sent


ENVELOPE_OVERHEAD = 1024  # bytes of a produce request beyond the value (key, headers, batch framing)


def ingest_dead_letter(path: Path, reason: str, error, settings) -> bytes:
    """A page file ingest could not send -> DeadLetter JSON bytes (the file's first bytes as input)."""
    from leaderwatch.dead import dead_letter

    content = b""
    try:
        if path.is_file():  # not a FIFO: reading one would wait for a writer
            with open(path, "rb") as handle:
                content = handle.read(settings.dead_letter_input_bytes + 1)  # input_bytes: "at least" then
    except OSError:
        pass
    return encode(dead_letter("ingest", reason, display_path(str(error)), content, limit=settings.dead_letter_input_bytes,
                              key=display_path(path)))
