"""What the CLI prints: the leader table, one leader's windows, an alert; JSON from a worker."""
from __future__ import annotations

import urllib.error
import urllib.request

import orjson

def fetch_json(url: str, timeout: float = 5.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return orjson.loads(response.read())
    except urllib.error.HTTPError as exc:
        return orjson.loads(exc.read())
    except urllib.error.URLError as exc:
        raise SystemExit(f"no worker answers at {url} ({exc.reason}); start one with `leaderwatch worker`") from None


def print_table(rows: list[dict], title: str = "Leader mentions") -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in ("leader", "country", "Wikidata", "documents", "mentions"):
        table.add_column(column, justify="right" if column in ("documents", "mentions") else "left")
    for row in rows:
        table.add_row(row["name"], row["country"], row["qid"], str(row["docs"]), str(row["mentions"]))
    Console().print(table)


def print_windows(data: dict) -> None:
    if "error" in data:
        print(data["error"])
        return
    print(f"{data['name']} ({data['country']}, {data['qid']}): {data['docs']} documents, {data['mentions']} mentions")
    for window in data["windows"]:
        print(f"  {window['window_start']}  {window['docs']:>5} docs  {window['mentions']:>6} mentions")


def format_alert(alert: dict) -> str:
    names = " & ".join(f"{l['name']} ({l['country']})" for l in alert["leaders"])
    evidence = alert["evidence"][0] if alert["evidence"] else {}
    line = f"[{alert['kind']}] {alert['event_time']} {names}"
    if alert["kind"] == "spike":
        d = alert["details"]
        line += f": {d['documents']} documents in window {d['window_start']} (baseline {d['baseline']})"
    elif evidence.get("sentence"):
        line += f': "{evidence["sentence"][:200]}"'
    if (alert.get("details") or {}).get("historical"):
        line += " (historical: cites a past engagement)"
    if alert.get("backfill"):
        line += " (backfill)"
    return line + (f"\n    {evidence.get('title') or ''} <{evidence.get('url')}>" if evidence.get("url") else "")
