"""Every parser has a size and a depth limit, and page content reaches no file and no network.

Found by scripts/fuzz: one element with 150,000 attributes (a 1.5 MB page) took trafilatura 350 s
(libxml2's HTML parser checks attribute names for duplicates pairwise, and trafilatura parses a
page several times); such pages are now rejected before parsing.
"""
from __future__ import annotations

import http.server
import threading
import time

import orjson
import pytest

from leaderwatch.pipeline.clean import MAX_ATTRIBUTES, CleanOptions, Rejected, clean_page, parse_envelope
from leaderwatch.records import PageCleaned, PageEntities, decode_record
from leaderwatch.schemas import validator_for

RAW = validator_for("pages.raw.v1.json")
TEXT = "<p>Emmanuel Macron met Olaf Scholz in Berlin on Tuesday for talks about trade and defence.</p>"


def envelope(body: str, **extra) -> dict:
    return {"url": "https://limits.example/a", "fetched_at": "2025-11-20T10:00:00Z", "body": body, **extra}


def raw(body: str) -> bytes:
    return orjson.dumps(envelope(body))


# ---------------------------------------------------------------- the JSON envelope and records

def test_envelope_size_limit():
    with pytest.raises(Rejected) as rejected:
        parse_envelope(raw("x" * 3_000_000), RAW, max_page_bytes=2_000_000)
    assert rejected.value.reason == "too_large"


def test_page_body_size_limit():
    with pytest.raises(Rejected) as rejected:
        clean_page(envelope("<p>" + "word " * 500_000), CleanOptions(max_page_bytes=1_000_000))
    assert rejected.value.reason == "too_large"


@pytest.mark.parametrize("depth", [2_000, 100_000])
def test_envelope_json_depth_limit(depth):
    nested = b'{"fetched_at": "2025-01-01", "body": "x", "extra": ' + b"[" * depth + b"]" * depth + b"}"
    with pytest.raises(Rejected) as rejected:
        parse_envelope(nested, RAW, max_page_bytes=2_000_000)
    assert rejected.value.reason == "malformed_envelope" and "depth" in str(rejected.value)


@pytest.mark.parametrize("record_type", [PageCleaned, PageEntities])
def test_record_json_depth_limit(record_type):
    with pytest.raises(Rejected) as rejected:
        decode_record(record_type, b"[" * 100_000 + b"]" * 100_000)
    assert rejected.value.reason == "malformed_record"


def test_lone_surrogates_in_the_envelope_are_rejected():
    with pytest.raises(Rejected) as rejected:
        parse_envelope(b'{"fetched_at": "2025-01-01", "body": "\\ud800 text"}', RAW, max_page_bytes=1000)
    assert rejected.value.reason == "malformed_envelope"


# ---------------------------------------------------------------- the HTML parser

def test_html_nesting_100000_deep_is_parsed_quickly_with_libxml2s_depth_limit():
    start = time.monotonic()
    for body in ("<html><body>" + "<div>" * 100_000 + TEXT + "</div>" * 100_000,
                 "<html><body>" + "<div>" * 100_000 + TEXT):  # unclosed
        try:
            clean_page(envelope(body))
        except Rejected as exc:
            assert exc.reason == "no_text"  # the text is below libxml2's depth limit (256): dropped
    assert time.monotonic() - start < 20


def test_an_element_with_too_many_attributes_is_rejected_before_parsing():
    body = "<html><body><p " + " ".join(f'a{i}="x"' for i in range(150_000)) + ">" + TEXT + "</p></body></html>"
    start = time.monotonic()
    with pytest.raises(Rejected) as rejected:
        clean_page(envelope(body))
    assert rejected.value.reason == "too_large" and "attributes" in str(rejected.value)
    assert time.monotonic() - start < 2


def test_quoted_angle_brackets_do_not_hide_attributes():
    body = "<html><body><p " + " ".join(f'a{i}=">"' for i in range(MAX_ATTRIBUTES + 1)) + ">" + TEXT + "</p>"
    with pytest.raises(Rejected):
        clean_page(envelope(body))


def test_tags_in_comments_and_scripts_are_not_counted():
    """A real page (aeb fde930b0...): an unbalanced quote in an IE conditional comment."""
    filler = " ".join(f'<div class="c{i}" id="d{i}">x</div>' for i in range(1200))
    for wrapped in (f'<!--[if lt IE 9]><div class="container>{filler}<![endif]-->',
                    f"<script>var s = '<bo\"+'dy onload=\"x()\">' + \"{filler}\";</script>"):
        page = clean_page(envelope("<html><body>" + wrapped + "<article>" + TEXT + "</article></body></html>"))
        assert "Emmanuel Macron" in page.text


def test_elements_under_the_attribute_limit_are_cleaned_fast():
    """The worst page under the limit: as many elements with MAX_ATTRIBUTES attributes as 2 MB holds."""
    tag = "<p " + " ".join(f"a{i}" for i in range(MAX_ATTRIBUTES)) + ">x</p>"
    body = "<html><body>" + TEXT + tag * (1_900_000 // len(tag)) + TEXT + "</body></html>"
    start = time.monotonic()
    try:
        clean_page(envelope(body))
    except Rejected as exc:
        assert exc.reason == "no_text"
    assert time.monotonic() - start < 30


def test_huge_attribute_values_are_fine():
    page = clean_page(envelope('<html><body><p title="' + "a" * 1_500_000 + '">' + TEXT[3:]))
    assert "Emmanuel Macron" in page.text


# ---------------------------------------------------------------- no file, no network

@pytest.fixture
def web_server():
    """A local HTTP server that counts the requests it gets."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY remote "REMOTE-ENTITY-WAS-FETCHED">')

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def test_xxe_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-FILE-CONTENT")
    for prolog in ('<?xml version="1.0"?>\n', ""):
        body = (f'{prolog}<!DOCTYPE html [<!ENTITY xxe SYSTEM "file://{secret}">]>'
                f"<html><body><article><p>Leaked: &xxe;.</p>{TEXT}</article></body></html>")
        page = clean_page(envelope(body))
        assert "TOP-SECRET" not in page.text and "Emmanuel Macron" in page.text


def test_external_dtds_entities_and_resources_are_not_fetched(web_server, tmp_path):
    url, hits = web_server
    body = (f'<?xml version="1.0"?><!DOCTYPE html PUBLIC "-//X//DTD X//EN" "{url}/evil.dtd">'
            f'<!DOCTYPE html [<!ENTITY % ext SYSTEM "{url}/param.dtd"> %ext; <!ENTITY r SYSTEM "{url}/entity">]>'
            f'<html><head><link rel="stylesheet" href="{url}/style.css"><script src="{url}/app.js"></script>'
            f'<meta http-equiv="refresh" content="0; url={url}/refresh"><base href="{url}/base/"></head>'
            f'<body><article><img src="{url}/img.png"><iframe src="{url}/frame"></iframe>'
            f'<p>&r;</p>{TEXT}<a href="{url}/link">more</a></article></body></html>')
    page = clean_page(envelope(body))
    clean_page(envelope(body, url=f"{url}/page"))
    time.sleep(0.3)
    assert hits == []
    assert "REMOTE-ENTITY" not in page.text and "Emmanuel Macron" in page.text
