"""Crashes and outages, measured: pages through the pipeline on the embedded broker, or on Apache
Kafka (--kafka 1|3, RocksDB tables either way) while workers are SIGKILLed and restarted, a second
worker is killed for good, brokers are SIGKILLed or frozen (Kafka), and the workers are cut off the
broker; then the tables and topics are checked against what was sent.

  pages    the shared corpus ../shared/corpus/aeb cycled, each copy a new document (fresh url,
           and the page's canonical link given a ?copy=N so its doc_id is new too)
  kills    SIGKILL of the worker at random moments (--seed), restarted after 0-2 s;
           recovery = restart -> its /progress/ counters moving again
  second   a second worker of the same app joins, takes partitions, and is SIGKILLed for good
  outage   every client reaches the broker through a TCP proxy here (the broker advertises the
           proxy's address); the proxy drops every connection and refuses new ones for --outage s;
           the last 10 pages are sent after it, so that the worker has work to resume on
  --kafka N  Apache Kafka instead (tools/kafka_cluster.py, N = 1 or 3 nodes, in the run's temp dir);
           each node has a CLIENT listener advertised at a proxy here (the outage cuts the clients
           off, the nodes still reach each other); topics at replication 3 on 3 nodes, producer
           batches of normal size (not the embedded broker's one record a batch), and broker faults
           (tools/kafka_faults.py) after the worker kills: --broker-kills SIGKILLs, alternately the
           leader of a partition in use and the active KRaft controller, each restarted after
           3-6 s; then one broker (not the controller) SIGSTOPped for --broker-cutoff s: frozen,
           it stops answering clients, followers and the quorum alike (a per-broker proxy would cut
           the clients only: it would stay in the ISR and keep its leaderships, unreachable)

Then: every page sent is on pages.entities or a dead letter (else lost); the live table equals
"each document on pages.entities counted once" (more: double_counted, less: lost); no alert_id twice.
A human summary, then ONE JSON object as the last line:
{"pages", "kills", "outage_s", "lost", "double_counted", "duplicate_alerts", "dead_letters", "recovery_s_max",
 "broker_kills", "broker_kills_by_kind", ...}
Usage: ./scripts/faults [--pages 3000] [--kills 5] [--outage 25] [--seed 7] [--short] [--kafka 1|3]
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import dataclasses
import random
import signal
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

from leaderwatch.cli.printing import fetch_json
from leaderwatch.ops.broker import broker_binary, free_port, stop_process, wait_for_port
from leaderwatch.ops.ingest import iter_page_files, page_envelope
from leaderwatch.ops.workers import pipeline_done, wait_until_ready, worker_process
from leaderwatch.settings import Settings

REPO = Path(__file__).resolve().parents[2]
AEB_DIR = REPO.parent / "shared" / "corpus" / "aeb"


def log(message: str) -> None:
    print(f"faults {time.strftime('%H:%M:%S')}: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the broker behind a pausable proxy

class Proxy:
    """127.0.0.1:port -> the broker; pause() drops every connection and refuses new ones until resume()."""

    def __init__(self, target_port: int):
        self.port, self.target_port = free_port(), target_port
        self.paused = False
        self.connections: set = set()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(10)

    def _run(self, ready):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
        ready.set()
        self.loop.run_forever()

    async def _handle(self, reader, writer):
        if self.paused:
            writer.close()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        pair = (writer, upstream_writer)
        self.connections.add(pair)

        async def pipe(source, sink):
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        self.connections.discard(pair)

    def _drop_all(self):
        for client, upstream in list(self.connections):
            for w in (client, upstream):
                with contextlib.suppress(Exception):
                    w.transport.abort()
        self.connections.clear()

    def pause(self):
        self.paused = True
        self.loop.call_soon_threadsafe(self._drop_all)

    def resume(self):
        self.paused = False


class Proxies:
    """Several proxies paused and resumed as one: every broker of a cluster cut off at once."""

    def __init__(self, proxies: list[Proxy]):
        self.proxies = proxies

    def pause(self):
        for proxy in self.proxies:
            proxy.pause()

    def resume(self):
        for proxy in self.proxies:
            proxy.resume()


@contextlib.contextmanager
def broker_behind_proxy(log_path: Path):
    """tansu on a private port, advertising the proxy's address: every client goes through the proxy."""
    port = free_port()
    proxy = Proxy(port)
    command = [broker_binary(), "broker", "--listener-url", f"tcp://127.0.0.1:{port}",
               "--advertised-listener-url", f"tcp://127.0.0.1:{proxy.port}", "--storage-engine", "memory://tansu/",
               "--cluster-id", "leaderwatch-faults"]
    with open(log_path, "ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_port("127.0.0.1", port)
            yield f"kafka://127.0.0.1:{proxy.port}", proxy
        finally:
            stop_process(process, timeout=5)


@contextlib.contextmanager
def kafka_behind_proxies(work: Path, nodes: int):
    """Apache Kafka, `nodes` nodes under `work`/kafka, each advertising its CLIENT listener at a
    proxy: yields (the clients' broker URL, the proxies as one, the cluster)."""
    from tools.kafka_cluster import KafkaCluster

    proxies = [Proxy(0) for _ in range(nodes)]
    cluster = KafkaCluster(work / "kafka", nodes, heap_mb=320, client_advertised=[p.port for p in proxies])
    for proxy, port in zip(proxies, cluster.client_ports):
        proxy.target_port = port
    with cluster:
        yield cluster.client_url, Proxies(proxies), cluster


# ---------------------------------------------------------------- pages: the corpus cycled, each copy a new document

# where trafilatura finds a page's own url (its doc_id): <link rel=canonical> and og:url
_OWN_URL = re.compile(r"""<(?:link|meta)\b[^>]*?(?:rel=["']?canonical|property=["']?og:url)[^>]*>""", re.I)
_HREF = re.compile(r"""(?:href|content)=["']([^"']+)["']""", re.I)


def corpus_envelopes() -> list[tuple[dict, list[str]]]:
    """(envelope, the page's own urls: canonical link, og:url) for every aeb page."""
    pages = []
    for path in iter_page_files([AEB_DIR]):
        envelope = page_envelope(path, fetched_at="2026-11-30T12:00:00Z")
        links = {m.group(1) for tag in _OWN_URL.findall(envelope["body"]) for m in _HREF.finditer(tag)}
        pages.append((envelope, sorted(links, key=len, reverse=True)))
    return pages


def page_copy(pages, n: int) -> dict:
    envelope, links = pages[n % len(pages)]
    body = envelope["body"]
    for link in links:  # the page's own url decides the doc_id: a new one per copy
        body = body.replace(f'"{link}"', f'"{link}{"&amp;" if "?" in link else "?"}copy={n}"')
    return {**envelope, "body": body, "url": f"https://faults.example/copy/{n}", "source": f"faults-{n}"}


HELD_BACK = 10  # pages sent only once the outage is over, so that the worker has something to move on


async def feed(settings: Settings, pages, count: int, rate: float, hold: threading.Event, outage_over: threading.Event,
               sent: list, failed: list, durable: bool = False) -> None:
    """Send `count` page copies at `rate` per second; wait while `hold` is set (the outage), and send the
    last HELD_BACK only once `outage_over` is set: when every other page is in before the outage
    ends (--short), they are what shows the worker working again after it. `durable` (Apache
    Kafka): acks=all and an idempotent producer (aiokafka's default is acks=1: a page the leader
    acknowledged and lost in a broker kill would count as lost; the embedded broker has no
    idempotent producer)."""
    from aiokafka import AIOKafkaProducer

    pending = []
    durability = {"acks": "all", "enable_idempotence": True} if durable else {}
    producer = AIOKafkaProducer(bootstrap_servers=settings.broker_bootstrap, max_request_size=8 * 1024 * 1024,
                                compression_type="gzip", linger_ms=20, request_timeout_ms=60_000, **durability)
    await producer.start()
    try:
        start = time.monotonic()
        for n in range(count):
            while hold.is_set() or (n >= count - HELD_BACK and not outage_over.is_set()):
                await asyncio.sleep(0.2)
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            envelope = page_copy(pages, n)
            pending.append((envelope["url"], await producer.send(settings.topic_raw, orjson.dumps(envelope),
                                                                 key=envelope["url"].encode())))
        await producer.flush()
    finally:
        await producer.stop()
    for url, future in pending:  # a page counts as sent once the broker has acknowledged it
        try:
            await future
            sent.append(url)
        except Exception as exc:
            failed.append(f"{url}: {type(exc).__name__}: {exc}")


# ---------------------------------------------------------------- workers and faults

class Workers:
    def __init__(self, settings: Settings, work: Path, stack: contextlib.ExitStack):
        self.settings, self.work, self.stack = settings, work, stack
        self.count = 0

    def start(self, settings: Settings | None = None):
        """A worker process; returns (process, settings, started_at) once it is ready."""
        settings = settings or self.settings
        self.count += 1
        started = time.monotonic()
        process = self.stack.enter_context(worker_process(settings, self.work / f"worker-{self.count}.log"))
        wait_until_ready(settings, process, timeout=120)
        return process, settings, started


def processed(settings) -> int:
    with contextlib.suppress(Exception):
        progress = fetch_json(settings.web_url + "/progress/", timeout=2)
        return sum(v for k, v in progress.items() if k.endswith("_in") or k == "mention_updates_applied")
    return -1


def wait_processing(settings, since: float, timeout: float = 180.0) -> float:
    """Seconds from `since` until this worker's counters show it processing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if processed(settings) > 0:
            return round(time.monotonic() - since, 2)
        time.sleep(0.2)
    raise TimeoutError("a restarted worker did not process anything")


def wait_moving(settings, since: float, timeout: float = 180.0, then=None) -> float:
    """Seconds from `since` until this worker's counters go up again; `then()`, if given, is called
    once the starting count is read."""
    first = processed(settings)
    if then is not None:
        then()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = processed(settings)
        if now > first >= 0 or (first < 0 <= now):
            if first < 0:
                first = now
                continue
            return round(time.monotonic() - since, 2)
    raise TimeoutError("the worker did not move again")


def broker_faults(args, cluster, settings, report: dict, rng: random.Random, kills: int, cutoff: bool) -> None:
    """`kills` broker SIGKILLs (leader of a partition in use, active controller, alternately), then,
    if `cutoff`, one broker frozen for --broker-cutoff s; each waits until the cluster is whole."""
    from tools.kafka_faults import BrokerFaults, topic_names

    faults_ = BrokerFaults(cluster, report, log, rng)
    kinds = ["partition_leader", "controller"] if cluster.nodes > 1 else ["partition_leader"]
    for _ in range(kills):
        kind = kinds[report["broker_kills"] % len(kinds)]
        down_s = rng.uniform(3, 6)
        if kind == "controller":
            faults_.kill_controller(down_s)
        else:  # the pipeline's topics and the tables' changelogs (app id and topic prefix share the tag)
            faults_.kill_leader(topic_names(cluster.bootstrap, settings.app_id.rsplit("-", 1)[-1]), down_s)
        report["broker_kills"] += 1
    if cutoff and args.broker_cutoff:
        faults_.cut_off(args.broker_cutoff)


def faults(args, workers: Workers, proxy: Proxy, hold: threading.Event, outage_over: threading.Event, report: dict,
           cluster=None):
    """The fault schedule (a thread): kills and restarts (on Kafka each followed by a broker kill
    while any are due), the remaining broker faults, the second worker, the outage; sets
    `outage_over` once the outage has ended and the worker's count before any held-back page is read."""
    rng = random.Random(args.seed)
    broker_kills_due = args.broker_kills if cluster else 0
    main, settings, started = workers.start()
    report["first_ready_s"] = round(time.monotonic() - started, 2)
    wait_processing(settings, started)
    for kill in range(args.kills):
        time.sleep(rng.uniform(*args.kill_gap))
        log(f"kill {kill + 1}: SIGKILL worker pid {main.pid} (processed {processed(settings)} events)")
        main.kill()
        main.wait()
        report["kills"] += 1
        time.sleep(rng.uniform(0, 2))
        main, settings, started = workers.start()
        recovery = wait_processing(settings, started)
        report["recovery_s"].append(recovery)
        log(f"kill {kill + 1}: restarted, processing again after {recovery} s")
        if report["broker_kills"] < broker_kills_due:
            time.sleep(rng.uniform(1, 3))
            broker_faults(args, cluster, settings, report, rng, 1, cutoff=False)
    if cluster:
        broker_faults(args, cluster, settings, report, rng, broker_kills_due - report["broker_kills"], cutoff=True)
    if args.second_worker:
        second_settings = dataclasses.replace(settings, web_port=free_port())
        second, second_settings, started = workers.start(second_settings)
        wait_processing(second_settings, started)
        report["second_worker_processed"] = processed(second_settings)
        time.sleep(rng.uniform(3, 8))
        log(f"second worker (pid {second.pid}, processed {processed(second_settings)}): SIGKILL for good")
        killed_at = time.monotonic()
        second.kill()
        second.wait()
        report["kills"] += 1
        wait_moving(settings, killed_at)  # the survivor goes on (and takes the partitions over: checked at the end)
    if args.outage:
        time.sleep(rng.uniform(2, 5))
        log(f"outage: the proxy drops every connection for {args.outage} s")
        hold.set()
        proxy.pause()
        time.sleep(args.outage)
        proxy.resume()
        restored = time.monotonic()
        hold.clear()
        report["outage_s"] = args.outage
        report["outage_recovery_s"] = wait_moving(settings, restored, then=outage_over.set)
        report["worker_survived_outage"] = main.poll() is None
        log(f"outage over: the worker moves again after {report['outage_recovery_s']} s")
    report["final_worker"] = (main, settings)


async def read_values(settings: Settings, topic: str) -> list[dict]:
    from leaderwatch.ops.follow import read_topic

    return [orjson.loads(v) async for v in read_topic(settings, topic, idle_timeout=2.0)]


async def diagnose(settings: Settings, missing: list[str]) -> dict:
    """Where the missing pages are on pages.raw and pages.clean (by url), the group's committed
    offsets and the last offset read on each partition of both: a page on pages.raw below the
    committed offset and not on pages.clean was skipped by the worker; above it, not yet read."""
    from aiokafka import AIOKafkaConsumer

    from leaderwatch.kafka.reader import topic_partitions

    consumer = AIOKafkaConsumer(bootstrap_servers=settings.broker_bootstrap, enable_auto_commit=False, group_id=settings.group_id)
    await consumer.start()
    found: dict = {"missing": missing[:20]}
    try:
        for topic in (settings.topic_raw, settings.topic_clean):
            partitions = await topic_partitions(consumer, [topic], wait_s=10.0)
            if not partitions:
                found[topic.rsplit(".", 1)[-1]] = "no partitions in the metadata"
                continue
            consumer.assign(partitions)
            committed = {tp.partition: await consumer.committed(tp) for tp in partitions}
            await consumer.seek_to_beginning(*partitions)
            where, ends = {}, {}
            while batches := await consumer.getmany(timeout_ms=2000):
                for tp, records in batches.items():
                    for record in records:
                        ends[tp.partition] = record.offset
                        with contextlib.suppress(Exception):
                            url = orjson.loads(record.value).get("url")
                            if url in missing:
                                where.setdefault(url, []).append((tp.partition, record.offset))
            name = topic.rsplit(".", 1)[-1]
            found[name] = {"committed": committed, "last_offsets": ends, "missing_at": dict(list(where.items())[:20])}
        return found
    finally:
        await consumer.stop()


def live_table(settings) -> dict:
    return {r["qid"]: (r["docs"], r["mentions"]) for r in fetch_json(settings.web_url + "/mentions/?top=10000")["leaders"]}


async def run(args) -> dict:
    started_run = time.monotonic()
    pages = corpus_envelopes()
    log(f"{len(pages)} corpus pages ({sum(1 for _, links in pages if links)} with their own url), {args.pages} copies to send")
    work = Path(tempfile.mkdtemp(prefix="leaderwatch-faults-"))
    report = {"pages": args.pages, "kills": 0, "outage_s": 0, "recovery_s": [], "broker_kills": 0,
              "settings": {name: str(value) for name, value in args.overrides.items()}}
    with contextlib.ExitStack() as stack:
        cluster = None
        if args.kafka:
            broker, proxy, cluster = stack.enter_context(kafka_behind_proxies(work, args.kafka))
            log(f"Apache Kafka, {args.kafka} node(s): clients through {broker}, nodes on {cluster.bootstrap}")
        else:
            broker, proxy = stack.enter_context(broker_behind_proxy(work / "broker.log"))
        tag = os.urandom(4).hex()
        settings = Settings(app_id=f"lw-faults-{tag}", broker=broker, web_port=free_port(), datadir=str(work / "data"),
                            store="rocksdb://", partitions=args.partitions, replicas=3 if args.kafka == 3 else 1,
                            broker_kind="kafka" if args.kafka else "embedded", broker_session_timeout=args.session_timeout,
                            topic_raw=f"faults{tag}.pages.raw", topic_clean=f"faults{tag}.pages.clean",
                            topic_entities=f"faults{tag}.pages.entities", topic_alerts=f"faults{tag}.alerts",
                            topic_dead=f"faults{tag}.pages.dead", topic_mention_updates=f"faults{tag}.mention-updates")
        settings = dataclasses.replace(settings, **args.overrides)
        workers = Workers(settings, work, stack)
        hold, outage_over = threading.Event(), threading.Event()
        if not args.outage:
            outage_over.set()
        errors = []

        def guarded():
            try:
                faults(args, workers, proxy, hold, outage_over, report, cluster)
            except Exception as exc:  # reported, and the run checks what it has
                errors.append(f"{type(exc).__name__}: {exc}")
                log(f"fault schedule failed: {exc}")
            finally:
                outage_over.set()  # the held-back pages go whatever happened

        controller = threading.Thread(target=guarded, daemon=True)
        controller.start()
        while "first_ready_s" not in report and controller.is_alive():
            await asyncio.sleep(0.2)
        sent: list[str] = []
        send_failures: list[str] = []
        await feed(settings, pages, args.pages, args.rate, hold, outage_over, sent, send_failures, durable=bool(args.kafka))
        log(f"{len(sent)} pages sent")
        await asyncio.to_thread(controller.join)
        main, settings = report.pop("final_worker", (None, settings))

        # settle: every page on pages.entities or dead, and the worker idle (its counters, the
        # topics and the table unchanged) for three checks in a row. Not pipeline_done(): its
        # counters are one process's, and what a worker sent to a partition another worker held
        # (the second worker) was counted in by that one; main's "in" then stayed below its "out"
        # for good and the check waited out --settle-timeout (the long runs that "never settled")
        settle_started = time.monotonic()
        deadline, stable, last, said = settle_started + args.settle_timeout, 0, None, settle_started
        entities, dead = [], []
        while time.monotonic() < deadline and stable < 3:
            await asyncio.sleep(2.0)
            entities = await read_values(settings, settings.topic_entities)
            dead = await read_values(settings, settings.topic_dead)
            done_urls = {e["url"] for e in entities} | {d.get("key") for d in dead}
            waiting = sum(1 for url in sent if url not in done_urls)
            with contextlib.suppress(Exception):
                progress = fetch_json(settings.web_url + "/progress/", timeout=5)
                counted = {k: v for k, v in progress.items() if k.endswith(("_in", "_out", "_sent", "_applied"))}
                current = (len(entities), len(dead), live_table(settings), counted)
                stable = stable + 1 if not waiting and current == last else 0
                last = current
                if time.monotonic() - said > 30:
                    said = time.monotonic()
                    log(f"settling {round(said - settle_started)} s: {waiting} pages not yet on pages.entities; "
                        f"pipeline_done {pipeline_done(progress, 0)}; counters {counted}")
        report["settle_s"] = round(time.monotonic() - settle_started, 1)
        table = live_table(settings)
        alerts = await read_values(settings, settings.topic_alerts)
        missing_now = [url for url in sent if url not in {e["url"] for e in entities} | {d.get("key") for d in dead}]
        diagnosis = await diagnose(settings, missing_now) if missing_now else {}
        progress = fetch_json(settings.web_url + "/progress/", timeout=5)
        final_alive = main is not None and main.poll() is None

    # ---- the accounting
    done_urls = {e["url"] for e in entities}
    dead_urls = {d.get("key") for d in dead}
    missing = [url for url in sent if url not in done_urls and url not in dead_urls]
    expected = collections.defaultdict(lambda: [0, 0])
    for page in {e["doc_id"]: e for e in entities}.values():
        for leader in page["leaders"]:
            expected[leader["qid"]][0] += 1
            expected[leader["qid"]][1] += leader["mentions"]
    short_docs = sum(max(0, docs - (table.get(q) or (0, 0))[0]) for q, (docs, _) in expected.items())
    extra_docs = sum(max(0, docs - expected.get(q, (0, 0))[0]) for q, (docs, _) in table.items())
    mention_errors = sum(1 for q, v in expected.items() if table.get(q, (0, 0))[1] != v[1])
    ids = collections.Counter(a["alert_id"] for a in alerts)
    recoveries = report.pop("recovery_s")
    broker_faults_done = report.get("broker_faults", [])
    result = {
        "pages": len(sent),
        "send_failures": len(send_failures),
        "kills": report["kills"],
        "outage_s": report["outage_s"],
        "broker": f"kafka-{args.kafka}" if args.kafka else "embedded",
        "broker_kills": report["broker_kills"],
        "broker_kills_by_kind": dict(collections.Counter(f["kind"] for f in broker_faults_done if f["kind"] != "cut_off")),
        "broker_cutoffs": sum(1 for f in broker_faults_done if f["kind"] == "cut_off"),
        "lost": len(missing) + short_docs,
        "double_counted": extra_docs,
        "duplicate_alerts": sum(n - 1 for n in ids.values()),
        "dead_letters": len(dead),
        "recovery_s_max": max(recoveries, default=None),
        "recovery_s": recoveries,
        "settle_s": report.get("settle_s"),
        "second_worker_processed": report.get("second_worker_processed"),
        "outage_recovery_s": report.get("outage_recovery_s"),
        "worker_survived_outage": report.get("worker_survived_outage"),
        "documents": len({e["doc_id"] for e in entities}),
        "entities_messages": len(entities),
        "alerts": len(alerts),
        "leaders": len(table),
        "mention_mismatches": mention_errors,
        "sums_repaired": progress.get("sums_repaired", 0),
        "final_worker_alive": final_alive,
        "errors": errors,
        "broker_faults": broker_faults_done,
        "missing_diagnosis": diagnosis,
        "seed": args.seed,
        "seconds": round(time.monotonic() - started_run, 1),
    }
    log(f"send failures {send_failures[:3]}; missing pages {missing[:5]}; dead letters {collections.Counter(d['reason'] for d in dead)}; "
        f"alerts {len(alerts)} ({collections.Counter(a['kind'] for a in alerts)}); final progress {progress}")
    if args.keep:
        log(f"work dir kept: {work}")
    else:
        subprocess.run(["rm", "-rf", str(work)], check=False)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=None,
                        help="pages sent per second (20; --kafka 12, so that pages still come while brokers fail)")
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--kill-gap", type=float, nargs=2, default=(6.0, 15.0), help="seconds between kills (random in)")
    parser.add_argument("--outage", type=float, default=25.0)
    parser.add_argument("--no-second-worker", dest="second_worker", action="store_false")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--session-timeout", type=float, default=Settings().broker_session_timeout)
    parser.add_argument("--settle-timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--short", action="store_true", help="CI: 250 pages, one kill, one 5 s outage, no second worker, "
                                                             "4 s session timeout")
    parser.add_argument("--kafka", type=int, choices=[0, 1, 3], default=0,
                        help="Apache Kafka with this many nodes instead of the embedded broker (0)")
    parser.add_argument("--broker-kills", type=int, default=4, help="--kafka: broker SIGKILLs")
    parser.add_argument("--broker-cutoff", type=float, default=15.0, help="--kafka: seconds one broker is frozen (0: none)")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="any other worker setting (a Settings field), e.g. --set static_membership=true")
    args = parser.parse_args(argv)
    try:
        args.overrides = Settings.overrides_from(args.set)
    except ValueError as exc:
        parser.error(str(exc))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a timeout's SIGTERM still stops the workers and the broker
    if args.short:
        args.pages, args.kills, args.outage, args.second_worker = min(args.pages, 250), 1, 5.0, False
        args.kill_gap, args.settle_timeout, args.rate, args.session_timeout = (2.0, 4.0), 120.0, 30.0, 4.0
        args.broker_kills, args.broker_cutoff = min(args.broker_kills, 2), min(args.broker_cutoff, 8.0)
        if args.kafka:  # pages still coming while the brokers fail (~1 min of faults), not all in 8 s
            args.rate = 3.0
    if args.rate is None:
        args.rate = 12.0 if args.kafka else 20.0
    if args.kafka:  # Apache Kafka refuses a session under group.min.session.timeout.ms (6 s): InvalidSessionTimeoutError
        args.session_timeout = max(args.session_timeout, 6.0)
    if not AEB_DIR.exists():
        print(f"faults: {AEB_DIR} not found (the shared corpus)", file=sys.stderr)
        return 2
    result = asyncio.run(run(args))
    print(orjson.dumps(result).decode())
    ok = result["lost"] == 0 and result["double_counted"] == 0 and result["duplicate_alerts"] == 0 and not result["errors"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
