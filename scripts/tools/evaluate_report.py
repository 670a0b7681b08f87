"""The human-readable part of ./scripts/eval: summary lines and, with --details, each page's mistakes."""
from __future__ import annotations

import sys


def _fmt(value) -> str:
    return "n/a" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))


def _clip(text: str, width: int = 160) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


def top_mistakes(rows: list[dict], kind: str, n: int = 15) -> list[tuple[str, int, list[str]]]:
    """(name, count, page ids) of the most frequent false positives ("false_pos") or negatives."""
    pages: dict[str, list[str]] = {}
    for row in rows:
        for item in getattr(row.get("score"), kind, None) or []:
            pages.setdefault(item["name"], []).append(row["id"])
    return sorted(((name, len(ids), ids) for name, ids in pages.items()), key=lambda t: (-t[1], t[0]))[:n]


def print_report(metrics: dict, rows: list[dict], details: bool, out=sys.stdout) -> None:
    """The human summary (and per-page mistakes with --details); the JSON line is printed by main."""
    say = lambda *parts: print(*parts, file=out)  # noqa: E731
    say(f"corpus {metrics['corpus']}: {metrics['pages']} pages ({metrics['pages_rejected']} rejected by clean), "
        f"{metrics['pages_with_truth']} with truth, {metrics['pages_with_labels']} with leader labels")
    say(f"fetched_at fixed to {metrics['fetched_at']}: pages with no published date (truth or trafilatura) use it as event time")
    say(f"text F1 (bag of words): clean_page {_fmt(metrics['text_f1'])}   bare trafilatura.extract {_fmt(metrics['text_f1_trafilatura_baseline'])}")
    if "leader_precision" in metrics:
        say(f"leaders: P {_fmt(metrics['leader_precision'])}  R {_fmt(metrics['leader_recall'])}  F1 {_fmt(metrics['leader_f1'])}  "
            f"(TP {metrics['leader_tp']}, FP {metrics['leader_fp']}, FN {metrics['leader_fn']}); "
            f"recall without the {metrics['role_only_labels']} role-only labels {_fmt(metrics['leader_recall_named'])}")
        for kind, title in (("false_pos", "top false positives"), ("false_neg", "top false negatives")):
            mistakes = top_mistakes(rows, kind)
            if mistakes:
                say(f"{title}: " + "; ".join(f"{name} x{count}" for name, count, _ in mistakes))
    else:
        say("leaders: no leaders.jsonl, leader metrics skipped")
    for cls, figures in (metrics.get("by_class") or {}).items():
        say(f"  class {cls}: P {_fmt(figures['leader_precision'])}  R {_fmt(figures['leader_recall'])}  "
            f"(TP {figures['leader_tp']}, FP {figures['leader_fp']}, FN {figures['leader_fn']})")
    if "alert_precision" in metrics:
        say(f"engagement alerts: P {_fmt(metrics['alert_precision'])}  R {_fmt(metrics['alert_recall'])}  "
            f"(right {metrics['alert_tp']}, wrong {metrics['alert_fp']}, missed {metrics['alert_fn']})")
        for cls, figures in (metrics.get("alerts_by_class") or {}).items():
            if figures["alert_tp"] + figures["alert_fp"] + figures["alert_fn"]:
                say(f"  class {cls}: P {_fmt(figures['alert_precision'])}  R {_fmt(figures['alert_recall'])}  "
                    f"(right {figures['alert_tp']}, wrong {figures['alert_fp']}, missed {figures['alert_fn']})")
    say(f"speed: clean {_fmt(metrics['clean_docs_per_s'])} docs/s, extract {_fmt(metrics['docs_per_s'])} docs/s (one thread)")
    if details:
        for row in rows:
            score = row.get("score")
            alerts = row.get("alerts") or {}
            if score is None or not (score.false_pos or score.false_neg or alerts.get("wrong") or alerts.get("missed")):
                continue
            say(f"-- {row['id']}" + (f"  (text F1 {row['text_f1']:.3f})" if "text_f1" in row else "") + (" REJECTED" if row["rejected"] else ""))
            for item in score.false_pos:
                leak = " [not in the truth text: boilerplate kept by clean]" if item.get("in_truth_text") is False else ""
                say(f"   FP {item['name']} ({item['qid']}){leak}: {' | '.join(item['surfaces'])}")
                if item.get("context"):
                    say(f"      in: {_clip(item['context'])}")
            for item in (row.get("alerts") or {}).get("wrong", []):
                say(f"   ALERT wrong {item['pair']} historical={item['historical']}: {_clip(item['sentence'] or '')}")
            for item in (row.get("alerts") or {}).get("missed", []):
                say(f"   ALERT missed {item['pair']} historical={item['historical']}")
            for item in score.false_neg:
                say(f"   FN {item['name']} ({item['qid']}){' [role only]' if item['role_only'] else ''}: {' | '.join(item['surfaces'])}")
