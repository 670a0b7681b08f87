"""The alerts contract on a real broker: one spike per burst, no repeats, readable by kcat and a plain consumer."""
from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime, timezone

import orjson
import pytest

from leaderwatch.cli.printing import fetch_json
from leaderwatch.ops.workers import wait_until_done
from leaderwatch.ops.ingest import publish_pages
from leaderwatch.schemas import validator_for
from tests.conftest import EMBEDDED, PROJECT_DIR, TAKAICHI_PAGE, read_all

pytestmark = pytest.mark.integration
TAKAICHI = "Q1705028"
ALERTS = validator_for("alerts.v1.json")


def burst_pages(folder, count: int, published: datetime | None = None) -> list:
    """`count` distinct pages about Sanae Takaichi, all in one hour window (default: the current one)."""
    published = published or datetime.now(timezone.utc).replace(minute=0, second=1, microsecond=0)
    files = []
    for i in range(count):
        page = folder / f"takaichi-{i}.txt"
        page.write_text(f"Takaichi update {i}\n\nJapan's Prime Minister Sanae Takaichi announced measure number {i} "
                        f"on the economy today. Takaichi said the plan would help households.\n")
        page.with_name(f"takaichi-{i}.meta.json").write_text(orjson.dumps(
            {"url": f"https://news.example.org/takaichi/{i}", "published_at": published.isoformat()}).decode())
        files.append(page)
    return files


async def test_backfilled_bursts_raise_a_spike_only_when_the_setting_says_so(settings_factory, start_worker, tmp_path):
    """A burst of archive pages (2024-03-05, loaded as a backfill): no spike by default, so consumers
    are not flooded with old news; with LEADERWATCH_ALERT_BACKFILL_SPIKES=true one spike, marked backfill."""
    old_hour = datetime(2024, 3, 5, 9, 0, 1, tzinfo=timezone.utc)
    files = burst_pages(tmp_path, 8, published=old_hour)
    kinds = {}
    for raise_them in (False, True):
        settings = settings_factory(alert_backfill_spikes=raise_them)
        start_worker(settings)
        await publish_pages(settings, files, backfill=True, show_progress=False)
        await wait_until_done(settings, len(files), timeout=60)
        window = fetch_json(settings.web_url + f"/mentions/{TAKAICHI}/")["windows"]
        assert [(w["window_start"], w["docs"]) for w in window] == [("2024-03-05T09:00:00Z", 8)]  # counted either way
        alerts = await read_all(settings, settings.topic_alerts, expect=1 if raise_them else 0, timeout=10)
        kinds[raise_them] = [a["kind"] for a in alerts]
        for alert in alerts:
            assert not list(ALERTS.iter_errors(alert))
            assert alert["backfill"] is True and alert["event_time"] == "2024-03-05T09:00:00Z"
    assert kinds == {False: [], True: ["spike"]}


async def test_a_burst_gives_one_spike_and_resending_gives_no_second_alert(settings_factory, start_worker, tmp_path):
    settings = settings_factory()
    start_worker(settings)
    files = burst_pages(tmp_path, 8)
    engagement = tmp_path / "engagement.html"
    engagement.write_bytes(TAKAICHI_PAGE.read_bytes())

    await publish_pages(settings, files + [engagement], show_progress=False)
    await wait_until_done(settings, len(files) + 1, timeout=60)
    first = await read_all(settings, settings.topic_alerts, expect=2)
    kinds = sorted(a["kind"] for a in first)
    assert kinds == ["engagement", "spike"], kinds
    spike = next(a for a in first if a["kind"] == "spike")
    assert spike["leaders"][0]["qid"] == TAKAICHI and spike["details"]["documents"] == 5  # crossed at min_documents
    assert spike["backfill"] is False and len(spike["evidence"]) == 5

    # the same pages again (and a replayed copy of the engagement page): no new alert
    await publish_pages(settings, files + [engagement], show_progress=False)
    await wait_until_done(settings, 2 * (len(files) + 1), timeout=60)
    again = await read_all(settings, settings.topic_alerts, expect=len(first))
    assert [a["alert_id"] for a in again] == [a["alert_id"] for a in first]
    for alert in again:
        assert not list(ALERTS.iter_errors(alert))


async def alerts_of_one_page(settings_factory, start_worker, tmp_path):
    settings = settings_factory()
    start_worker(settings)
    page = tmp_path / "takaichi.html"
    page.write_bytes(TAKAICHI_PAGE.read_bytes())
    await publish_pages(settings, [page], show_progress=False)
    await wait_until_done(settings, 1, timeout=60)
    await read_all(settings, settings.topic_alerts, expect=1)
    return settings


def check_envelope(key: str, alert: dict) -> None:
    assert not list(ALERTS.iter_errors(alert))
    assert key == alert["leaders"][0]["qid"]  # keyed by the first leader's Wikidata id
    assert {l["qid"] for l in alert["leaders"]} == {TAKAICHI, "Q56226"}


JS_DIR = PROJECT_DIR / "tests" / "js"


@pytest.mark.skipif(shutil.which("node") is None or not (JS_DIR / "node_modules" / "kafkajs").exists(),
                    reason="node or tests/js/node_modules missing (./scripts/test installs kafkajs with npm)")
async def test_a_javascript_consumer_and_the_example_consumer_read_the_alerts(settings_factory, start_worker, tmp_path):
    settings = await alerts_of_one_page(settings_factory, start_worker, tmp_path)
    out = subprocess.run(["node", str(JS_DIR / "read_alerts.js"), settings.broker_bootstrap, settings.topic_alerts, "1"],
                         capture_output=True, text=True, timeout=90, check=True).stdout
    (line,) = [orjson.loads(l) for l in out.splitlines() if l.strip()]
    check_envelope(line["key"], line["value"])

    # the example downstream consumer (scripts/example_consumer.py), with its own group
    result = subprocess.run([sys.executable, str(PROJECT_DIR / "scripts" / "example_consumer.py"), "--broker",
                             settings.broker_bootstrap, "--topic", settings.topic_alerts, "--group", "downstream-test",
                             "--max", "1"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "engagement" in result.stdout and "Sanae Takaichi (JP)" in result.stdout


# The embedded broker (tansu 0.6) answers ApiVersions v3 with a layout librdkafka cannot parse ("Read
# underflow"), and its ListOffsets v0 likewise. With api.version.request=false and a 0.9 fallback
# librdkafka speaks the old Metadata/Fetch versions, which tansu answers right; absolute offsets (-o 0)
# and a message count (-c) avoid ListOffsets. Apache Kafka 4 dropped those old versions: plain flags.
KCAT_ON_TANSU = ["-X", "api.version.request=false", "-X", "broker.version.fallback=0.9.0", "-o", "0"]
KCAT_ON_KAFKA = ["-o", "beginning"]


@pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat not installed (Debian package kcat; .ci/run installs it)")
async def test_kcat_reads_the_alerts_as_json(settings_factory, start_worker, tmp_path):
    settings = await alerts_of_one_page(settings_factory, start_worker, tmp_path)
    expected = await read_all(settings, settings.topic_alerts, expect=1)
    flags = KCAT_ON_TANSU if EMBEDDED else KCAT_ON_KAFKA
    out = subprocess.run(["kcat", "-b", settings.broker_bootstrap, "-C", "-t", settings.topic_alerts, *flags,
                          "-c", str(len(expected)), "-J", "-q"], capture_output=True, text=True, timeout=60, check=True).stdout
    envelopes = [orjson.loads(line) for line in out.splitlines() if line.strip()]
    assert [orjson.loads(e["payload"]) for e in envelopes] == expected
    for envelope in envelopes:
        check_envelope(envelope["key"], orjson.loads(envelope["payload"]))
