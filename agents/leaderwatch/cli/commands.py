"""`leaderwatch` commands beyond Faust's own (worker, agents, tables ...): broker, ingest,
backfill, mentions, alerts, demo, replay. register_commands() adds them to an app; each imports
what it runs (leaderwatch.ops, leaderwatch.cli.demo) only when it runs, so a worker never does."""
from __future__ import annotations

import json

import click
import orjson
from faust.cli import argument, option

from leaderwatch.cli.printing import fetch_json, format_alert, print_table, print_windows


def register_commands(app, settings) -> None:
    """Add the leaderwatch commands to `app`'s CLI; they read `settings` (the environment, once)."""

    @app.command(option("--port", type=int, default=9092, help="TCP port (default 9092)."),
                 option("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1)."),
                 option("--advertised-host", default=None, help="Host name clients are told to connect to (default: "
                                                                "--host; this machine's name when --host is 0.0.0.0)."))
    async def broker(self, port: int, host: str, advertised_host) -> None:
        """Run the embedded Kafka-protocol broker (tansu, memory storage) in the foreground."""
        import os
        import sys

        from leaderwatch.ops.broker import advertised, broker_command

        print(f"embedded broker on {host}:{port}, advertised as kafka://{advertised(host, advertised_host)}:{port} "
              "(memory storage: data is lost on exit)", file=sys.stderr, flush=True)
        command = broker_command(port, host, advertised_host)
        os.execv(command[0], command)  # the broker replaces this process: signals reach it directly

    @app.command(argument("paths", nargs=-1, required=True),
                 option("--published", default=None, help="Published date (ISO 8601, e.g. 2025-11-14) for pages whose "
                                                          "<page>.meta.json gives none."),
                 option("--backfill", is_flag=True, default=False, help="Old pages from an archive: marked backfill."))
    async def ingest(self, paths, published, backfill: bool) -> None:
        """Publish page files (.html, .html.gz, .txt) or folders of them to pages.raw."""
        from leaderwatch.ops.ingest import iter_page_files, publish_pages

        files = list(iter_page_files(paths))
        sent = await publish_pages(settings, files, published, backfill)
        print(f"sent {sent} pages to {settings.topic_raw}")

    @app.command(argument("paths", nargs=-1, required=True),
                 option("--published", default=None, help="Published date (ISO 8601) for pages whose <page>.meta.json gives none."))
    async def backfill(self, paths, published) -> None:
        """Load an archive of old pages (same as `ingest --backfill`)."""
        from leaderwatch.ops.ingest import iter_page_files, publish_pages

        files = list(iter_page_files(paths))
        sent = await publish_pages(settings, files, published, backfill=True)
        print(f"sent {sent} backfill pages to {settings.topic_raw}")

    @app.command(argument("action", type=click.Choice(["update"])), argument("path"))
    async def leaders(self, action: str, path: str) -> None:
        """`leaders update FILE`: publish leaders from a CSV (iso3,country,role,person,person_qid,start,end) live."""
        from leaderwatch.ops.leaders import publish_leader_updates

        try:
            records = await publish_leader_updates(settings, path)
        except (OSError, ValueError) as exc:
            raise SystemExit(f"leaderwatch leaders update: {exc}") from None
        for record in records:
            print(f"{record['qid']}  {record['name']} ({record['country']}): {len(record['terms'])} term(s)")
        print(f"sent {len(records)} leader updates to {settings.topic_leaders}")

    @app.command(option("--top", type=int, default=20, help="How many leaders (default 20)."),
                 option("--leader", default=None, help="One leader's windows, by Wikidata id."),
                 option("--json", "as_json", is_flag=True, default=False, help="Print JSON."))
    async def mentions(self, top: int, leader, as_json: bool) -> None:
        """Print the live leader mentions table (from a running worker's web server)."""
        path = f"/mentions/{leader}/" if leader else f"/mentions/?top={top}"
        data = fetch_json(settings.web_url + path)
        if as_json:
            print(json.dumps(data, ensure_ascii=False, indent=2))
        elif leader:
            print_windows(data)
        else:
            print_table(data["leaders"])

    @app.command(option("--follow", is_flag=True, default=False, help="Keep waiting for new alerts."),
                 option("--kind", default=None, help="Only this kind (engagement, spike, watch)."),
                 option("--leader", default=None, help="Only alerts naming this Wikidata id."),
                 option("--json", "as_json", is_flag=True, default=False, help="Print the raw JSON messages."))
    async def alerts(self, follow: bool, kind, leader, as_json: bool) -> None:
        """Print the alerts on the alerts topic, oldest first."""
        from leaderwatch.ops.follow import read_topic

        async for value in read_topic(settings, settings.topic_alerts, follow=follow):
            alert = orjson.loads(value)
            if (kind and alert["kind"] != kind) or (leader and leader not in {l["qid"] for l in alert["leaders"]}):
                continue
            print(orjson.dumps(alert).decode() if as_json else format_alert(alert), flush=True)

    @app.command(argument("paths", nargs=-1),
                 option("--follow", is_flag=True, default=False, help="Keep running; show the table updating live."),
                 option("--published", default=None, help="Published date for the given pages."))
    async def demo(self, paths, follow: bool, published) -> None:
        """Broker + worker + pages in: print the leader table and alerts (what ./scripts/run does)."""
        from leaderwatch.cli.demo import run_demo

        await run_demo(settings, list(paths), follow=follow, published=published)

    @app.command(option("--stage", type=click.Choice(["clean", "extract", "alert"]), default="clean", show_default=True,
                        help="Where re-processing starts: clean reads pages.raw, extract pages.clean, alert pages.entities."),
                 option("--topic", default=None, help="The stage's input topic (default: that topic; must match --stage)."),
                 option("--from", "since", default=None, help="Messages with a Kafka timestamp at or after this (ISO 8601, UTC "
                                                              "if no offset), e.g. 2025-11-14. Default: the beginning."),
                 option("--to", "until", default=None, help="...and before this (ISO 8601). Default: now."),
                 option("--timeout", type=float, default=300.0, help="Seconds to wait for a worker to process the copies."),
                 option("--web-url", "web_urls", multiple=True, help="A worker's web server, whose /progress/ counters show "
                        "the copies processed; repeat for several workers (one per stage, or replicas). Default: "
                        "LEADERWATCH_WEB_HOST:LEADERWATCH_WEB_PORT."))
    async def replay(self, stage: str, topic, since, until, timeout: float, web_urls) -> None:
        """Re-publish a stage's input messages in [--from, --to) so they are processed again (without double counting)."""
        from leaderwatch.ops.replay import format_summary, run_replay

        try:
            summary = await run_replay(settings, stage, topic, since, until, wait_timeout=timeout, web_urls=list(web_urls) or None)
        except ValueError as exc:
            raise SystemExit(f"leaderwatch replay: {exc}") from None
        print(format_summary(summary))
