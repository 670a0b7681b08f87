"""pages.raw (PageFetched JSON bytes) -> pages.clean (PageCleaned); rejects raise Rejected.

parse_envelope() (pipeline/envelope.py) checks the bytes against schemas/pages.raw.v1.json;
clean_page() turns one envelope dict into a PageCleaned or raises Rejected with a reason code.
No Faust here.
"""
from __future__ import annotations

import bisect
import functools
import hashlib
import logging
import re
import unicodedata
from html import unescape
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import trafilatura
from htmldate import find_date
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HTMLParser, HtmlProcessingInstruction, fromstring
from trafilatura.metadata import (META_URL, examine_meta, extract_domain, extract_meta_json, extract_sitename,
                                  extract_title, extract_url, set_date_params)
from trafilatura.utils import is_dubious_html, line_processing, repair_faulty_html

from leaderwatch.pipeline.envelope import CleanOptions, parse_envelope
from leaderwatch.pipeline.extraction import article_text
from leaderwatch.pipeline.prune_guards import skipped_impossible_prunes
from leaderwatch.records import PageCleaned, Rejected
from leaderwatch.times import seconds_between, to_iso, utc_now_iso

log = logging.getLogger(__name__)


def clean_message(value: bytes | None, options: "CleanOptions", schemas_dir: str | None = None) -> PageCleaned:
    """pages.raw message bytes -> PageCleaned (parse_envelope, then clean_page), or Rejected.
    What the clean stage's child processes run (stages/pool.py names it "module:function")."""
    from leaderwatch.schemas import validator_for

    envelope = parse_envelope(value, validator_for("pages.raw.v1.json", schemas_dir), options.max_page_bytes)
    return clean_page(envelope, options)


# ---------------------------------------------------------------- the page

def clean_page(envelope: dict, options: CleanOptions = CleanOptions()) -> PageCleaned:
    """A valid pages.raw envelope -> PageCleaned; raises Rejected for unusable content."""
    body: str = envelope["body"]
    # UTF-8 needs at most 4 bytes a character: encode (to count) only bodies that could be over
    size = len(body) if len(body) * 4 <= options.max_page_bytes else len(body.encode("utf-8", "surrogatepass"))
    if size > options.max_page_bytes:
        raise Rejected("too_large", f"page body of {size} bytes exceeds the {options.max_page_bytes}-byte limit")
    check_is_text(body)

    url = envelope.get("url")
    fetched_at = to_iso(envelope["fetched_at"]) or utc_now_iso()
    if envelope.get("content_type", "text/html").startswith("text/plain"):
        text, meta = normalize_text(body), {}
        first_line = text.split("\n", 1)[0].strip()
        meta["title"] = first_line if 0 < len(first_line) <= 200 else None
    else:
        text, meta = extract_article(body, url, fast=options.fast, need_date=to_iso(envelope.get("published_at")) is None)
    if len(text.strip()) < options.min_text_chars:
        raise Rejected("no_text", "no article text could be extracted from the page")

    published_at = to_iso(envelope.get("published_at")) or to_iso(meta.get("date"))
    event_time = published_at or fetched_at
    page_link = meta.get("url") if str(meta.get("url") or "").startswith(("http://", "https://")) else None
    canonical = canonical_url(page_link or url) if (page_link or url) else None
    backfill = bool(envelope.get("backfill")) or seconds_between(event_time, fetched_at) > options.backfill_age_seconds
    return PageCleaned(
        doc_id=make_doc_id(canonical, text),
        url=url,
        title=meta.get("title"),
        description=normalize_text(meta["description"]) if meta.get("description") else None,
        site=meta.get("sitename") or meta.get("hostname"),
        language=meta.get("language"),
        published_at=published_at,
        fetched_at=fetched_at,
        event_time=event_time,
        text=text,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest()[:32],
        backfill=backfill,
    )


def extract_article(html: str, url: str | None, fast: bool = True, need_date: bool = True) -> tuple[str, dict]:
    """HTML -> (article text, metadata dict with title/description/date/sitename/hostname/url/language).

    The markup lxml would never take text from is cut first (without_hidden_markup), what is left
    checked for attribute bombs (check_attributes) and parsed once; the metadata is the part of
    trafilatura's that the pipeline uses (page_metadata), and the date search (htmldate) runs
    only when `need_date` (the envelope gave no published_at). Rejected: too_large, no_text,
    extraction_failed."""
    markup = without_hidden_markup(html)
    check_attributes(markup)  # what lxml would parse
    try:
        tree = parse_html(markup)
        if tree is None:
            raise Rejected("no_text", "the page has no parsable HTML")
        meta = page_metadata(tree, need_date)
        # no url= here: the metadata's url is then the page's own canonical link, if it has one
        with skipped_impossible_prunes():  # the same text; prunes no id or class of the page could match skipped
            if fast:  # bare_extraction's text without its two needless tree copies (pipeline/extraction.py)
                text = article_text(tree)
            else:
                document = trafilatura.bare_extraction(tree, with_metadata=False, include_comments=False,
                                                       include_tables=True, fast=False)
                text = None if document is None else document.text or ""
    except Rejected:
        raise
    except Exception as exc:  # trafilatura/lxml raise many types on broken markup
        raise Rejected("extraction_failed", f"trafilatura failed: {type(exc).__name__}: {exc}") from None
    if text is None:
        raise Rejected("no_text", "trafilatura found no article text in the page")
    meta["language"] = html_language(html)
    return drop_teasers(normalize_text(text)), meta


# What trafilatura deletes from every tree before it reads any text (settings.MANUALLY_CLEANED,
# basic_cleaning) is cut from the markup before lxml builds it: scripts (but not the JSON ones its
# metadata and baseline read: ld+json, settings+json), styles, inline SVG, and comments (the
# parser drops those anyway). A sixth of clean's time on the shared corpora, the same text and
# metadata on all 157 pages.
_HIDDEN_START = re.compile(r"<!--|<(script|style|svg)(?=[\s/>])", re.I)
_HIDDEN_END = {name: re.compile(rf"</{name}\s*>", re.I) for name in ("script", "style", "svg")}
_HIDDEN_END["--"] = re.compile("-->")


def without_hidden_markup(html: str) -> str:
    """`html` without the elements no text is taken from (see above). An element left open stops
    the cutting there (the parser sees the rest as it is), so every search starts where the last
    one ended: one pass, linear in the page whatever it holds."""
    kept, position, kept_from = [], 0, 0
    while match := _HIDDEN_START.search(html, position):
        name = (match.group(1) or "--").lower()
        if name != "--":
            tag_end = html.find(">", match.end())
            if tag_end < 0:
                break
            if name == "script" and "json" in html[match.end():tag_end].lower():
                position = tag_end + 1
                continue
        end = _HIDDEN_END[name].search(html, match.end())
        if end is None:
            break
        kept.append(html[kept_from:match.start()])
        kept_from = position = end.end()
    if not kept:
        return html
    kept.append(html[kept_from:])
    return "".join(kept)


@functools.cache
def html_parser() -> HTMLParser:
    """trafilatura's HTML parser (utils.HTML_PARSER: no ids, comments or processing instructions)
    whose elements are all lxml.html.HtmlElement, the class chosen in C. lxml.html's own parser
    picks it in a Python method called for every element object lxml creates (426,676 calls for
    242 pages, 6% of clean's time), only to give form elements classes trafilatura never uses."""
    parser = HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True)
    parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity))
    return parser


def parse_html(markup: str) -> HtmlElement | None:
    """HTML text -> its lxml tree, or None: trafilatura's load_html for a string, with html_parser()."""
    beginning = markup[:50].lower()
    markup = repair_faulty_html(markup, beginning)
    try:
        tree = fromstring(markup, parser=html_parser())
    except Exception:  # an encoding declaration in a str (ValueError), or lxml's own: as bytes below
        tree = None
    if tree is None or len(tree) < 1:
        try:
            tree = fromstring(markup.encode("utf8", "surrogatepass"), parser=html_parser())
        except Exception:  # as load_html: a page lxml cannot parse has no tree
            tree = None
    if tree is not None and is_dubious_html(beginning) and len(tree) < 2:
        return None  # not (well-formed) HTML at all
    return tree


def page_metadata(tree, need_date: bool) -> dict:
    """trafilatura's extract_metadata without what the pipeline never reads (author, categories,
    tags, license: a sixth of clean's time) and, unless `need_date`, without the date search:
    title, description, date, sitename, hostname, url, each trimmed as trafilatura trims them."""
    found = examine_meta(tree)
    try:
        found = extract_meta_json(tree, found)
    except Exception:  # trafilatura's JSON-LD reader has bugs of its own
        pass
    title = found.title or extract_title(tree)
    page_url = found.url or extract_url(tree, None)
    date = find_date(tree, **{**set_date_params(True), "url": page_url}) if need_date else None
    sitename = found.sitename or extract_sitename(tree)
    if sitename:
        sitename = sitename.lstrip("@")
        if sitename and "." not in sitename and not sitename[0].isupper():
            sitename = sitename.title()
    elif page_url and (site_match := META_URL.match(page_url)):
        sitename = site_match[1]
    meta = {"title": title, "description": found.description, "date": date, "sitename": sitename,
            "hostname": extract_domain(page_url, fast=True) if page_url else None, "url": page_url}
    return {key: _trimmed(value) for key, value in meta.items()}


def _trimmed(value):
    """As trafilatura's Document.clean_and_trim: at most 10,000 characters, entities and spaces cleaned."""
    if not isinstance(value, str):
        return value
    return line_processing(unescape(value if len(value) <= 10000 else value[:9999] + "…"))


# lines news sites put between paragraphs that link to other stories: a teaser header ("DON'T
# MISS", "READ MORE: ...") or a headline tagged "[VIDEO]", "[INSIGHT]"; leaders named in them are
# not what the page is about
_TEASER_HEADER = re.compile(r"^(?:DON[’']T MISS|READ MORE|MORE ON THIS(?: STORY)?|RELATED(?: ARTICLES| STORIES| CONTENT)?|"
                            r"SEE ALSO|RECOMMENDED|Related Articles|Related Stories|Read more)\s*[:.…]?\s*$")
_TEASER_LINE = re.compile(r"^(?:READ MORE|RELATED|MORE|SEE ALSO|WATCH|LISTEN)\s*:\s+\S.*$|\[(?:[A-Z]+ ?){1,3}\]\s*\|?\s*$")


def drop_teasers(text: str) -> str:
    """Article text without the teaser lines between its paragraphs (see _TEASER_*)."""
    lines = text.split("\n")
    kept = [line for line in lines if not (len(line) < 250 and (_TEASER_HEADER.match(line) or _TEASER_LINE.search(line)))]
    return text if len(kept) == len(lines) else re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


_HTML_LANG = re.compile(r"<html[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.I)


def html_language(html: str) -> str | None:
    """The two/three-letter code of <html lang=...>, lowercased, if present."""
    match = _HTML_LANG.search(html[:5000])
    return match.group(1).lower() if match else None


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # Unicode Cc less \t \n \r \f


def check_is_text(body: str) -> None:
    """Reject bodies that are binary data or were decoded with the wrong charset."""
    sample = body[:200_000]
    if not sample:
        raise Rejected("no_text", "empty page body")
    if "\x00" in sample:
        raise Rejected("binary", "page body contains NUL characters: binary data, not a text page")
    head = sample[:32_768]  # binary data shows in its first bytes; counting further costs ~0.4 ms a page
    controls = len(_CONTROL_CHARS.findall(head))
    if controls > len(head) * 0.01:
        raise Rejected("binary", f"{controls} control characters in {len(head)}: binary data, not a text page")
    replacement = sample.count("\ufffd")
    if replacement > max(10, len(sample) * 0.005):
        raise Rejected("bad_charset", f"{replacement} undecodable characters (U+FFFD): wrong charset")


# libxml2's HTML parser compares each attribute of an element with the ones before it, and
# trafilatura parses a page several times: one element with 150,000 attributes (1.5 MB) took 350 s.
MAX_ATTRIBUTES = 1000  # per element; real pages stay under ~100
_TAG = re.compile(r"""<[A-Za-z][^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*""")  # a start tag, quotes respected
_QUOTED = re.compile(r""""[^"]*"|'[^']*'""")
_ATTRIBUTE_NAME = re.compile(r"""[\s"'/][^\s"'=>/]""")
_NOT_TAGS = re.compile(r"<(/?)(?:script|style)\b|<!--|-->", re.I)  # script, style, comments: text, not tags


def check_attributes(html: str, limit: int = MAX_ATTRIBUTES) -> None:
    """Reject a page with an element of more than `limit` attributes (before any parser sees it)."""
    raw_text = None
    for match in _TAG.finditer(html):
        if match.end() - match.start() <= 2 * limit:  # an attribute takes at least 2 characters
            continue
        # long tags are common (inline SVG paths, srcset lists, JSON in data- attributes): count
        # first, and only look for script/style/comment spans when the count is over the limit
        attributes = len(_ATTRIBUTE_NAME.findall(_QUOTED.sub('""', match.group())))
        if attributes <= limit:
            continue
        if raw_text is None:  # (position, opens) of every <script, </script, <style, </style, <!--, -->
            raw_text = [(m.start(), m.group() == "<!--" or m.group(1) == "") for m in _NOT_TAGS.finditer(html)]
        before = bisect.bisect_left(raw_text, (match.start(),)) - 1
        if before >= 0 and raw_text[before][1]:
            continue  # inside a script, a style or a comment (where an unbalanced quote is no attribute)
        raise Rejected("too_large", f"an element with {attributes} attributes exceeds the limit of {limit}")


def decode_bytes(raw: bytes) -> str:
    """Page bytes from a file or crawler -> text, detecting the charset like trafilatura does."""
    return trafilatura.utils.decode_file(raw)


def normalize_text(text: str) -> str:
    """Unicode NFC, unescaped entities, no trailing spaces, at most one blank line in a row."""
    text = unicodedata.normalize("NFC", unescape(text)).replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# ---------------------------------------------------------------- identity

_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ocid|cmpid|smid)$", re.I)


def canonical_url(url: str) -> str:
    """One spelling per page: lowercase scheme/host, no fragment, no tracking parameters."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if parts.port and not (parts.scheme, parts.port) in (("http", 80), ("https", 443)):
        host = f"{host}:{parts.port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k)))
    path = parts.path.rstrip("/") or "/"
    scheme = "https" if parts.scheme in ("http", "https") else parts.scheme.lower()
    return urlunsplit((scheme, host, path, query, ""))


def make_doc_id(canonical: str | None, text: str) -> str:
    """Stable document id: from the canonical URL, or from the text when there is no URL."""
    basis = f"url:{canonical}" if canonical else "text:" + " ".join(text.split())
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]
