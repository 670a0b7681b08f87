"""The live page's HTML, rendered on the server from a LiveState and the worker's counters.

One renderer for both paints: GET / sends the whole page (readable with scripts off), and the push
stream (/live/events) sends the same sections as fragments that static/live.js swaps in. Every
value is escaped here; the script inserts only what this module rendered.
"""
from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from leaderwatch.settings import ALL_STAGES

ALERT_KINDS = ("engagement", "spike", "watch")


def _e(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def _safe_url(url) -> str | None:
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None


def sparkline_svg(values: list[int], label: str) -> str:
    """An inline SVG polyline of `values` (documents per window), 96x20."""
    width, height = 96, 20
    top = max(values) if values and max(values) > 0 else 1
    step = width / max(1, len(values) - 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values))
    last = values[-1] if values else 0
    return (f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="{_e(label)}: {_e(",".join(map(str, values)))}"><polyline points="{points}"/>'
            f'<circle cx="{width:.1f}" cy="{height - 2 - (last / top) * (height - 4):.1f}" r="1.8"/></svg>')


def render_leaders(state, limit: int = 50) -> str:
    latest = state.latest_window()
    rows = []
    for rank, row in enumerate(state.top_leaders(limit), 1):
        qid = row["qid"]
        spark = sparkline_svg(state.sparkline(qid, latest), f"documents per window, last 24, {row.get('name')}")
        rows.append(
            f'<tr data-qid="{_e(qid)}"><td class="num">{rank}</td>'
            f'<td><a class="leader" href="/?{urlencode({"leader": qid})}#detail" data-qid="{_e(qid)}">{_e(row.get("name"))}</a></td>'
            f'<td>{_e(row.get("country"))}</td><td class="num">{row["docs"]}</td><td class="num">{row["mentions"]}</td>'
            f'<td class="spark-cell">{spark}</td></tr>')
    if not rows:
        rows.append('<tr><td colspan="6" class="empty">No leader counted yet.</td></tr>')
    caption = f"last 24 windows up to {_e(latest)}" if latest else "no event-time windows yet"
    return (f'<table class="leaders"><caption>Leaders by documents; sparkline: {caption}</caption><thead><tr>'
            '<th scope="col" class="num">#</th><th scope="col">leader</th><th scope="col">country</th>'
            '<th scope="col" class="num"><abbr title="documents">docs</abbr></th><th scope="col" class="num">mentions</th>'
            '<th scope="col">last 24 windows</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>")


def render_alert(alert: dict) -> str:
    leaders = alert.get("leaders", [])
    names = " &amp; ".join(f'{_e(x.get("name"))} <span class="muted">({_e(x.get("country"))})</span>' for x in leaders)
    evidence = []
    for item in alert.get("evidence", [])[:5]:
        url = _safe_url(item.get("url"))
        title = _e(item.get("title") or item.get("url") or item.get("doc_id"))
        link = f'<a href="{_e(url)}" rel="noopener noreferrer">{title}</a>' if url else title
        sentence = f'<q>{_e(item.get("sentence"))}</q> ' if item.get("sentence") else ""
        evidence.append(f"<li>{sentence}{link}</li>")
    details = alert.get("details") or {}
    words = f' <span class="muted">words: {_e(", ".join(details["words"]))}</span>' if details.get("words") else ""
    tags = ' <span class="tag">backfill</span>' if alert.get("backfill") else ""
    if details.get("historical"):  # the sentence cites a past engagement rather than reporting one
        tags += ' <span class="tag" title="the sentence cites a past engagement">historical</span>'
    qids = " ".join(_e(x.get("qid")) for x in leaders)
    return (f'<li class="alert kind-{_e(alert.get("kind"))}" data-kind="{_e(alert.get("kind"))}" data-leaders="{qids}" '
            f'data-alert-id="{_e(alert.get("alert_id"))}"><div class="alert-head"><span class="tag kind">{_e(alert.get("kind"))}</span> '
            f'{names}{tags}</div><div class="muted small">event {_e(alert.get("event_time"))} · detected '
            f'{_e(alert.get("detected_at"))}{words}</div><ul class="evidence">{"".join(evidence)}</ul></li>')


def render_alerts(state, kind: str = "", leader: str = "", limit: int = 50) -> str:
    """The alert list; with scripts off the server filters (kind, leader), with scripts the page
    gets all and filters in place."""
    alerts = state.recent_alerts(kind, leader, limit)
    if not alerts:
        return '<ul class="alerts" id="alert-list"><li class="empty">No alerts yet.</li></ul>'
    return '<ul class="alerts" id="alert-list">' + "".join(render_alert(a) for a in alerts) + "</ul>"


def render_alert_filter(state, kind: str, alert_leader: str) -> str:
    leaders = {}
    for alert in state.alerts.values():
        for x in alert.get("leaders", []):
            leaders[x.get("qid")] = x.get("name")
    kinds = "".join(f'<option value="{k}"{" selected" if k == kind else ""}>{k}</option>' for k in ALERT_KINDS)
    names = "".join(f'<option value="{_e(q)}"{" selected" if q == alert_leader else ""}>{_e(n)}</option>'
                    for q, n in sorted(leaders.items(), key=lambda item: str(item[1])))
    return (f'<form class="filter" id="alert-filter" method="get" action="/#alerts"><label>kind <select name="kind">'
            f'<option value="">all</option>{kinds}</select></label> <label>leader <select name="alert_leader">'
            f'<option value="">all</option>{names}</select></label> <button type="submit">filter</button></form>')


def render_health(state, counters: dict, live) -> str:
    counts = dict(counters)
    stages = []
    for stage in ALL_STAGES:
        if f"{stage}_in" in counts or f"{stage}_out" in counts:
            dead = sum(v for k, v in counts.items() if k.startswith(f"dead_{stage}_"))
            stages.append(f'<tr><th scope="row">{stage}</th><td class="num">{counts.get(f"{stage}_in", 0)}</td>'
                          f'<td class="num">{counts.get(f"{stage}_out", 0)}</td><td class="num">{dead}</td></tr>')
    if "mention_updates_applied" in counts:
        stages.append('<tr><th scope="row">mention updates</th>'
                      f'<td class="num">{counts.get("mention_updates_applied", 0)}</td>'
                      f'<td class="num">{counts.get("mention_updates_sent", 0)} sent</td><td class="num"></td></tr>')
    dead_rows = "".join(f'<tr><th scope="row">{_e(stage)}</th><td>{_e(reason)}</td><td class="num">{n}</td></tr>'
                        for (stage, reason), n in sorted(state.dead.items()))
    lag_rows = "".join(f'<tr><th scope="row">{_e(topic)}</th><td class="num">{"n/a" if n is None else n}</td></tr>'
                       for topic, n in sorted(live.lag.items())) if live else ""
    view = ("caught up" if live and live.caught_up else "catching up") + (
        f" ({live.state.records} records read)" if live else "")
    return (
        '<div class="health-grid">'
        '<table><caption>This worker: events per stage</caption><thead><tr><th scope="col">stage</th>'
        '<th scope="col" class="num">in</th><th scope="col" class="num">out</th><th scope="col" class="num">dead</th>'
        f'</tr></thead><tbody>{"".join(stages) or "<tr><td colspan=4 class=empty>no events yet</td></tr>"}</tbody></table>'
        '<table><caption>Dead letters by reason (all workers)</caption><tbody>'
        f'{dead_rows or "<tr><td class=empty>none</td></tr>"}</tbody></table>'
        '<table><caption>Consumer lag (messages not yet committed)</caption><tbody>'
        f'{lag_rows or "<tr><td class=empty>not known yet</td></tr>"}</tbody></table>'
        f'<dl><dt>last event time</dt><dd>{_e(state.last_event_time or "none yet")}</dd>'
        f'<dt>live view</dt><dd>{_e(view)}</dd></dl></div>')


def render_detail(detail: dict | None, qid: str) -> str:
    if detail is None:
        return f'<section id="detail" tabindex="-1"><h2>{_e(qid)}</h2><p class="empty">No mentions of {_e(qid)}.</p></section>'
    windows = "".join(
        f'<tr><td>{_e(w["window_start"])}</td><td class="num">{w["docs"]}</td><td class="num">{w["mentions"]}</td>'
        f'<td>{"spike" if w.get("alerted") else ""}</td></tr>' for w in reversed(detail["windows"][-48:]))
    documents = "".join(
        f'<li>{_link(d)} <span class="muted small">{_e(d.get("window_start"))}</span></li>' for d in detail["documents"][:30])
    evidence = "".join(
        f'<li>{_link(d)} <span class="muted small">{_e(d.get("event_time"))} · {d.get("mentions", 0)} mentions</span>'
        f'<ul>{"".join(f"<li><q>{_e(s)}</q></li>" for s in d.get("sentences", []))}</ul></li>' for d in detail["evidence"])
    return (
        f'<section id="detail" tabindex="-1" data-qid="{_e(detail["qid"])}"><h2>{_e(detail.get("name"))} '
        f'<span class="muted">{_e(detail.get("country"))} · {_e(detail["qid"])}</span></h2>'
        f'<p>{detail["docs"]} documents, {detail["mentions"]} mentions. <a href="/" class="close">close</a></p>'
        '<div class="detail-grid"><div><h3>Event-time windows</h3><table><thead><tr><th scope="col">window</th>'
        '<th scope="col" class="num">docs</th><th scope="col" class="num">mentions</th><th scope="col">alert</th></tr>'
        f'</thead><tbody>{windows}</tbody></table></div>'
        f'<div><h3>Documents</h3><ul class="docs">{documents or "<li class=empty>none</li>"}</ul>'
        f'<h3>Evidence (newest pages)</h3><ul class="docs">{evidence or "<li class=empty>none kept</li>"}</ul></div></div>'
        '</section>')


def _link(doc: dict) -> str:
    url = _safe_url(doc.get("url"))
    title = _e(doc.get("title") or doc.get("url") or doc.get("doc_id"))
    return f'<a href="{_e(url)}" rel="noopener noreferrer">{title}</a>' if url else title


def render_sections(live, counters) -> dict:
    """The fragments the push stream sends (and the page shows)."""
    state = live.state
    return {"version": state.version, "leaders": render_leaders(state), "alerts": render_alerts(state),
            "alert_filter_leaders": {q: n for a in state.alerts.values() for x in a.get("leaders", [])
                                     for q, n in [(x.get("qid"), x.get("name"))]},
            "health": render_health(state, counters, live), "caught_up": live.caught_up}


def render_page(live, counters, settings, kind: str = "", alert_leader: str = "", leader: str = "") -> str:
    """The whole page, first paint from the server."""
    state = live.state if live else None
    if state is None:
        body = ('<p class="empty">This worker does not run the mentions stage '
                f'({_e(",".join(settings.stages))}); ask one that does.</p>')
    else:
        detail = render_detail(state.leader_detail(leader), leader) if leader else '<section id="detail" tabindex="-1" hidden></section>'
        body = (
            f'<div class="layout"><section class="panel" id="leaders" aria-labelledby="h-leaders"><h2 id="h-leaders">Leaders</h2>'
            f'<div id="leaders-body" class="scroll">{render_leaders(state)}</div></section>'
            f'<div class="side">{detail}'
            f'<section class="panel" id="alerts" aria-labelledby="h-alerts"><h2 id="h-alerts">Latest alerts</h2>'
            f'{render_alert_filter(state, kind, alert_leader)}'
            f'<div id="alerts-body" aria-live="polite">{render_alerts(state, kind, alert_leader)}</div></section></div>'
            f'<section class="panel" id="health" aria-labelledby="h-health"><h2 id="h-health">Pipeline health</h2>'
            f'<div id="health-body">{render_health(state, counters, live)}</div></section></div>')
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>leaderwatch live</title><link rel="stylesheet" href="/static/live.css"></head><body>'
        '<a class="skip" href="#leaders">Skip to the leader table</a>'
        '<header><h1>leaderwatch <span class="muted">live</span></h1>'
        f'<p class="muted small">worker {_e(settings.group_id)} · stages {_e(",".join(settings.stages))} · '
        f'<span id="status" role="status">snapshot at first paint; reload to refresh</span></p></header>'
        f'<main data-version="{state.version if state else 0}">{body}</main>'
        '<script src="/static/live.js" defer></script></body></html>')
