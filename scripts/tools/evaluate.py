"""Offline evaluation: a labelled corpus folder -> text F1 and leader precision/recall of the real stages.

corpus/<id>.html.gz|.html|.txt (+ truth.jsonl, leaders.jsonl) -> page_envelope -> clean_page -> extract_page
  -> metrics: a human summary, then ONE JSON object as the last line.

Metric definitions (pure functions, tested in tests/unit/test_evaluate.py):
  token F1   tokens are `re.findall(r"\\w+", text.lower())` (Unicode word characters, lowercased); the
             predicted and true texts are bags of words WITH counts; overlap = size of the multiset
             intersection; P = overlap/|pred|, R = overlap/|true|, F1 = 2PR/(P+R). Both empty -> 1.0,
             one empty -> 0.0. This is the bag-of-words definition common in article-extraction
             benchmarks; scripts without spaces between words (zh, ja) become few long tokens.
  leaders    per page, the SET of predicted Wikidata ids vs the set of labelled ids, micro-averaged
             (TP/FP/FN summed over pages). `uncertain` labels count neither way; a label with
             wikidata null matches a prediction by name (casefolded, diacritics stripped), else FN.
             recall_named leaves out `role_only` labels (the text never names the person).
             A label row may carry a "class" (e.g. "former_states"): the same figures per class.
  alerts     with alerts.jsonl ({"id", "engagements": [{"pair": [qid, qid], "historical": bool}]}), the
             engagement alerts of each page (pipeline.alerts.engagement_alerts) against the labelled
             pairs: an alert is right when its pair is labelled AND its details' "historical" flag
             matches; precision = right / raised, recall = right / labelled (per class too).
"""
from __future__ import annotations

import argparse
import re
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import orjson

FETCHED_AT = "2020-01-15T00:00:00Z"  # fixed so runs repeat; the aeb pages are from ~2019-2020
_WORD = re.compile(r"\w+")


# ---------------------------------------------------------------- pure metric functions

def tokens(text: str) -> list[str]:
    """Lowercased word tokens (Unicode \\w+ runs)."""
    return _WORD.findall(text.lower())


def token_f1(predicted: str, truth: str) -> float:
    """Bag-of-words token F1 (with counts) of `predicted` against `truth`, in [0, 1]."""
    pred, true = Counter(tokens(predicted)), Counter(tokens(truth))
    if not pred and not true:
        return 1.0
    overlap = sum((pred & true).values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / sum(pred.values()), overlap / sum(true.values())
    return 2 * precision * recall / (precision + recall)


def norm_name(name: str) -> str:
    """Casefolded, diacritics stripped, whitespace collapsed: "Andrés  López" -> "andres lopez"."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().split())


@dataclass
class LeaderScore:
    """TP/FP/FN of one page (or summed over pages), with the mistakes for --details."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tp_named: int = 0
    fn_named: int = 0
    role_only: int = 0
    false_pos: list[dict] = field(default_factory=list)  # {"name","qid","surfaces","context"}
    false_neg: list[dict] = field(default_factory=list)  # {"name","qid","surfaces","role_only"}

    def add(self, other: "LeaderScore") -> None:
        for key in ("tp", "fp", "fn", "tp_named", "fn_named", "role_only"):
            setattr(self, key, getattr(self, key) + getattr(other, key))


def score_leaders(predicted: list[dict], labels: list[dict]) -> LeaderScore:
    """Predictions [{"qid","name","surfaces","context"?}] vs labels [{"name","wikidata","surface",...}] of one page."""
    score = LeaderScore()
    certain = [label for label in labels if not label.get("uncertain")]
    ignored_ids = {label["wikidata"] for label in labels if label.get("uncertain") and label.get("wikidata")}
    ignored_names = {norm_name(label["name"]) for label in labels if label.get("uncertain")}
    by_qid = {label["wikidata"]: label for label in certain if label.get("wikidata")}
    by_name = {norm_name(label["name"]): label for label in certain if not label.get("wikidata")}
    found: set[int] = set()  # id() of labels matched
    seen: set[str] = set()
    for leader in predicted:
        if leader["qid"] in seen:
            continue
        seen.add(leader["qid"])
        label = by_qid.get(leader["qid"]) or by_name.get(norm_name(leader["name"]))
        if label is not None and id(label) not in found:
            found.add(id(label))
        elif leader["qid"] not in ignored_ids and norm_name(leader["name"]) not in ignored_names:
            score.fp += 1
            score.false_pos.append({"name": leader["name"], "qid": leader["qid"], "surfaces": list(leader.get("surfaces") or []),
                                    "context": leader.get("context")})
    for label in certain:
        hit, named = id(label) in found, not label.get("role_only")
        score.tp += hit
        score.fn += not hit
        score.tp_named += hit and named
        score.fn_named += (not hit) and named
        score.role_only += not named
        if not hit:
            score.false_neg.append({"name": label["name"], "qid": label.get("wikidata"),
                                    "surfaces": list(label.get("surface") or []), "role_only": not named})
    return score


def score_alerts(raised: list, expected: list[dict]) -> dict:
    """Engagement alerts raised on one page vs its labelled pairs -> counts and the mistakes."""
    want = {tuple(sorted(item["pair"])): bool(item.get("historical")) for item in expected}
    right, wrong = 0, []
    got = set()
    for alert in raised:
        pair = tuple(sorted(leader.qid for leader in alert.leaders))
        historical = bool((alert.details or {}).get("historical"))
        if pair in want and want[pair] == historical and pair not in got:
            right += 1
            got.add(pair)
        else:
            wrong.append({"pair": list(pair), "historical": historical, "sentence": alert.evidence[0].sentence if alert.evidence else None})
    missed = [{"pair": list(pair), "historical": h} for pair, h in want.items() if pair not in got]
    return {"alert_tp": right, "alert_fp": len(wrong), "alert_fn": len(missed), "wrong": wrong, "missed": missed}


def alert_metrics(counts) -> dict:
    tp, fp, fn = counts.get("alert_tp", 0), counts.get("alert_fp", 0), counts.get("alert_fn", 0)
    return {"alert_precision": ratio(tp, tp + fp), "alert_recall": ratio(tp, tp + fn), "alert_tp": tp, "alert_fp": fp, "alert_fn": fn}


def ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def leader_metrics(total: LeaderScore) -> dict:
    """Micro precision/recall/F1 from summed counts (None where undefined)."""
    precision, recall = ratio(total.tp, total.tp + total.fp), ratio(total.tp, total.tp + total.fn)
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else (0.0 if precision is not None and recall is not None else None)
    return {
        "leader_precision": precision, "leader_recall": recall, "leader_f1": f1,
        "leader_recall_named": ratio(total.tp_named, total.tp_named + total.fn_named),
        "leader_tp": total.tp, "leader_fp": total.fp, "leader_fn": total.fn, "role_only_labels": total.role_only,
    }


# ---------------------------------------------------------------- the corpus and the real stages

def read_jsonl(path: Path) -> dict[str, dict] | None:
    """{id: row} of a JSON-lines file, or None when the file is absent."""
    if not path.exists():
        return None
    rows = (orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip())
    return {row["id"]: row for row in rows}


def page_id(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".html", ".htm", ".txt"):
        name = name.removesuffix(suffix)
    return name


def corpus_pages(folder: Path, limit: int | None = None) -> list[tuple[str, Path]]:
    """(id, file) for every page file directly in `folder`, sorted by id."""
    from leaderwatch.ops.ingest import PAGE_SUFFIXES

    pages = sorted((page_id(p), p) for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(PAGE_SUFFIXES))
    return pages[:limit] if limit else pages


def make_envelope(path: Path, truth: dict | None) -> dict:
    """What ingest sends to pages.raw, with the truth's url/published date and the fixed fetched_at."""
    from leaderwatch.ops.ingest import page_envelope

    truth = truth or {}
    envelope = page_envelope(path, truth.get("published") or truth.get("published_time"), fetched_at=FETCHED_AT)
    if truth.get("url"):
        envelope["url"] = truth["url"]
    return envelope


def clean_envelope(envelope: dict):
    """The clean agent's work on one envelope: PageCleaned, or None when Rejected."""
    from leaderwatch.pipeline.clean import CleanOptions, Rejected, clean_page, parse_envelope
    from leaderwatch.schemas import validator_for
    from leaderwatch.settings import Settings

    settings = Settings()  # the defaults a worker runs with
    options = CleanOptions(max_page_bytes=settings.max_page_bytes, backfill_age_seconds=settings.backfill_age_seconds)
    try:
        checked = parse_envelope(orjson.dumps(envelope), validator_for("pages.raw.v1.json", settings.schemas_dir), options.max_page_bytes)
        return clean_page(checked, options)
    except Rejected:
        return None


def throughput(work, items: list, min_seconds: float = 2.0) -> float:
    """Items per second of `work(item)` over `items`: the fastest of the passes over all items run
    in at least `min_seconds` (as timeit's min of repeats: other load on the machine only slows)."""
    if not items:
        return 0.0
    best, start = 0.0, time.perf_counter()
    while True:
        pass_start = time.perf_counter()
        for item in items:
            work(item)
        now = time.perf_counter()
        best = max(best, len(items) / (now - pass_start))
        if now - start >= min_seconds:
            return best


def build_matcher(gazetteer_file: str | None):
    from leaderwatch.pipeline.extract import build_matcher as stage_matcher

    return stage_matcher(gazetteer_file or "")


def evaluate(folder: Path, limit: int | None = None, matcher=None, min_seconds: float = 2.0) -> tuple[dict, list[dict]]:
    """Run clean + extract over a corpus folder -> (metrics dict, per-page rows for --details)."""
    import trafilatura

    from leaderwatch.pipeline.extract import extract_page

    from leaderwatch.pipeline.alerts import engagement_alerts, load_rules

    matcher = matcher or build_matcher(None)
    truth, labels = read_jsonl(folder / "truth.jsonl"), read_jsonl(folder / "leaders.jsonl")
    expected_alerts, rules = read_jsonl(folder / "alerts.jsonl"), load_rules()
    by_class: dict = {}
    alert_counts: dict = {}
    pages, rows, cleaned = corpus_pages(folder, limit), [], []
    clean_seconds, f1s, base_f1s, total = 0.0, [], [], LeaderScore()
    for pid, path in pages:
        envelope = make_envelope(path, (truth or {}).get(pid))
        start = time.perf_counter()
        page = clean_envelope(envelope)
        clean_seconds += time.perf_counter() - start
        row = {"id": pid, "rejected": page is None}
        if page is not None:
            cleaned.append(page)
        if truth and pid in truth and "article_body" in truth[pid]:
            f1s.append(token_f1(page.text if page else "", truth[pid]["article_body"]))
            html = envelope["body"]
            base = html if envelope["content_type"].startswith("text/plain") else (trafilatura.extract(html) or "")
            base_f1s.append(token_f1(base, truth[pid]["article_body"]))
            row["text_f1"] = f1s[-1]
        if labels is not None and pid in labels:
            found = extract_page(page, matcher).leaders if page else []
            predicted = [{"qid": f.qid, "name": f.name, "surfaces": f.surfaces, "context": (f.sentences or [None])[0]} for f in found]
            score = score_leaders(predicted, labels[pid]["leaders"])
            body = (truth or {}).get(pid, {}).get("article_body")
            for item in score.false_pos:  # a name that is not in the truth text: clean kept boilerplate
                item["in_truth_text"] = None if body is None else any(s in body for s in item["surfaces"])
            total.add(score)
            row["score"] = score
            by_class.setdefault(labels[pid].get("class"), LeaderScore()).add(score)
            if expected_alerts is not None and pid in expected_alerts:
                entities = extract_page(page, matcher) if page else None
                raised = engagement_alerts(entities, rules, FETCHED_AT, matcher.gazetteer) if entities else []
                tally = score_alerts(raised, expected_alerts[pid].get("engagements") or [])
                row["alerts"] = tally
                for key in (None, labels[pid].get("class")):
                    counts = alert_counts.setdefault(key, Counter())
                    counts.update({k: v for k, v in tally.items() if isinstance(v, int)})
        rows.append(row)
    metrics = {
        "corpus": str(folder), "fetched_at": FETCHED_AT,
        "pages": len(pages), "pages_rejected": sum(r["rejected"] for r in rows),
        "pages_with_truth": len(f1s), "pages_with_labels": sum("score" in r for r in rows),
        "text_f1": sum(f1s) / len(f1s) if f1s else None,
        "text_f1_trafilatura_baseline": sum(base_f1s) / len(base_f1s) if base_f1s else None,
    }
    if labels is not None:
        metrics.update(leader_metrics(total))
        if any(key is not None for key in by_class):
            metrics["by_class"] = {key: leader_metrics(score) for key, score in sorted(by_class.items(), key=lambda kv: str(kv[0]))}
    if alert_counts:
        metrics.update(alert_metrics(alert_counts.pop(None)))
        metrics["alerts_by_class"] = {key: alert_metrics(counts) for key, counts in sorted(alert_counts.items(), key=lambda kv: str(kv[0]))}
    metrics["clean_docs_per_s"] = len(pages) / clean_seconds if clean_seconds else None
    metrics["docs_per_s"] = throughput(lambda p: extract_page(p, matcher), cleaned, min_seconds) if cleaned else None
    return metrics, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="eval", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", required=True, type=Path, help="folder of <id>.html.gz|.html|.txt pages (+ truth.jsonl, leaders.jsonl)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages (sorted by id)")
    parser.add_argument("--details", action="store_true", help="print each page's false positives and negatives")
    parser.add_argument("--gazetteer", default=None, help="gazetteer.jsonl to use (default: what the extract agent loads)")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        parser.error(f"no such corpus folder: {args.corpus}")
    metrics, rows = evaluate(args.corpus, args.limit, build_matcher(args.gazetteer))
    from tools.evaluate_report import print_report

    print_report(metrics, rows, args.details)
    print(orjson.dumps(metrics).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
