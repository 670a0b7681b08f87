"""leaderwatch ingest on files that are not pages: every one is read within limits or refused with
a reason (a dead letter), none is skipped silently, none stops the ingest or blocks it."""
from __future__ import annotations

import gzip
import os
import resource

import orjson
import pytest

from leaderwatch.ops.ingest import display_path, ingest_dead_letter, iter_page_files, page_envelope
from leaderwatch.records import Rejected
from leaderwatch.settings import Settings

PAGE = b"<html><body><p>Emmanuel Macron met Olaf Scholz in Berlin for talks.</p></body></html>"


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "good.html").write_bytes(PAGE)
    os.symlink("loop2.html", tmp_path / "loop1.html")
    os.symlink("loop1.html", tmp_path / "loop2.html")
    os.symlink("missing.html", tmp_path / "dangling.html")
    os.mkfifo(tmp_path / "fifo.html")
    (tmp_path / "sub").mkdir()
    os.symlink("..", tmp_path / "sub" / "up")  # a directory loop: not followed
    (tmp_path / "bomb.html.gz").write_bytes(gzip.compress(b"<p>" + b"a" * 200_000_000, 9))
    (tmp_path / "corrupt.html.gz").write_bytes(b"\x1f\x8b\x08garbage")
    with open(os.fsencode(tmp_path) + b"/caf\xe9-latin1-name.html", "wb") as handle:
        handle.write(PAGE)
    return tmp_path


def test_every_page_name_in_a_folder_is_listed_once_even_when_it_cannot_be_read(folder):
    names = sorted(display_path(p.name) for p in iter_page_files([folder]))
    assert names == ["bomb.html.gz", "caf\\xe9-latin1-name.html", "corrupt.html.gz", "dangling.html", "fifo.html",
                     "good.html", "loop1.html", "loop2.html"]
    assert list(iter_page_files([folder / "loop1.html"])) == [folder / "loop1.html"]  # given by name: listed too


@pytest.mark.parametrize("name", ["loop1.html", "dangling.html", "fifo.html", "corrupt.html.gz"])
def test_unreadable_files_raise_what_ingest_dead_letters(folder, name):
    with pytest.raises((OSError, EOFError)):  # the FIFO too, without waiting for a writer
        page_envelope(folder / name)
    letter = orjson.loads(ingest_dead_letter(folder / name, "unreadable", "cannot read", Settings()))
    assert letter["stage"] == "ingest" and letter["key"].endswith(name)


def test_a_gzip_bomb_stops_at_the_limit_in_bounded_memory(folder):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(Rejected) as rejected:
        page_envelope(folder / "bomb.html.gz", max_bytes=4 * 1024 * 1024)
    assert rejected.value.reason == "too_large" and "inflated" in str(rejected.value)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB: < 50 MB more, not 200


def test_a_plain_file_over_the_limit_is_too_large(tmp_path):
    (tmp_path / "big.html").write_bytes(b"<p>" + b"a" * 5000)
    with pytest.raises(Rejected):
        page_envelope(tmp_path / "big.html", max_bytes=4096)


def test_a_file_name_that_is_not_utf8_gives_a_valid_envelope_and_dead_letter(folder):
    path = next(p for p in iter_page_files([folder]) if "latin1" in str(p))
    envelope = page_envelope(path)
    orjson.dumps(envelope)  # no surrogates left: valid UTF-8 JSON
    assert envelope["source"].endswith("caf\\xe9-latin1-name.html") and "%E9" in envelope["url"]
    orjson.dumps(orjson.loads(ingest_dead_letter(path, "unreadable", OSError(f"{path}: boom"), Settings())))


@pytest.mark.parametrize("sidecar", [b"[1, 2]", b'{"url": 5}', b"{not json", b'{"url": "' + b"a" * 70_000 + b'"}'])
def test_a_bad_sidecar_is_an_error_ingest_dead_letters(tmp_path, sidecar):
    (tmp_path / "page.html").write_bytes(PAGE)
    (tmp_path / "page.meta.json").write_bytes(sidecar)
    with pytest.raises((ValueError, Rejected)):
        page_envelope(tmp_path / "page.html")
