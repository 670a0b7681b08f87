"""Whole-pipeline benchmark: N pages through every stage on the embedded broker (or with --kafka 1|3
on Apache Kafka, a cluster the bench starts: tools.bench_kafka), against a bare
`trafilatura.extract` loop over the same pages on one core, timed in the same run.

  corpus DIR (pages + truth.jsonl) -> N envelopes, the corpus cycled with fresh urls (each copy's
  own canonical link rewritten too, so nothing is deduplicated) -> pages.raw (--compression zstd
  for long runs: the embedded broker holds every byte in memory; gzip cost the producer 5x the CPU)
  phase 1  throughput: N pages in --rounds segments (default 5), each sent at once; pages/s over
           the segments' time until every stage has counted their pages (summed
           /progress/ of K workers, each pinned to --cores-per-worker cores (default 1; a clean
           pool shares its worker's), broker and producer on the cores left, if any). --backlog:
           each segment is sent while the workers are stopped and its clock starts when they
           resume: the pipeline reading a backlog (a replay, a catch-up) without the producer's
           CPU or the broker's intake of pages.raw in the window
  phase 2  latency: pages sent one by one at half the measured capacity (or --latency-rate); per page, the record
           timestamp of pages.raw -> the last of its pages.entities record and its alerts; the
           pages at or above p99 are named, with their own clean CPU (clean_message timed on core 0
           between the phases) and their raw -> clean hop; overhead: per page its latency less
           the CPU every stage's core spent on it (tools.bench_overhead, timed with the clean CPU)
  bare     trafilatura.extract(html), default options, over the distinct pages on core 0: one
           round before each segment of phase 1 and one after it, the workers stopped (SIGSTOP)
           meanwhile, ~1.5 s at a time (in_short_pauses: a longer stop made a group rebalance);
           their mean is the baseline (pipeline and baseline take turns: the speed drifts).
           With each of those rounds also one bare loop on every core at once: the machine's own
           scaling (1.73-2.04x one core on this VM within an hour), the ceiling of any ratio here
CPU: phase 1's CPU seconds of the workers, the broker and this process (the producer); pages per
worker-CPU-second and per CPU-second of all three, each against bare's pages per CPU-second.
Memory: the largest resident size of any worker, its clean pool processes included (sampled every
0.5 s), and its growth from the first 10% of pages to the end; worker_pss_mb, the largest
proportional set size of the same (a library page the worker and its clean processes share
counts once, not once in each: what they hold together). GC: the workers' full garbage
collections over the run and their pauses (/progress/). Text F1: the pipeline's pages.clean text vs truth.jsonl, and
bare trafilatura's, on the same pages. A human summary, then ONE JSON object as the last line.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

from leaderwatch.kafka.reader import TopicReader
from leaderwatch.ops.broker import free_port, stop_process
from leaderwatch.ops.workers import pipeline_done, worker_environment
from leaderwatch.settings import Settings
from tools.bench_kafka import bench_broker, broker_settings, default_batch_bytes
from tools.bench_overhead import cpu_wait_s, overhead, stage_cpu_ms
from tools.evaluate import FETCHED_AT, corpus_pages, make_envelope, read_jsonl, token_f1

REPO = Path(__file__).resolve().parents[2]  # tools run from the repository, never from an installed package
AEB_DIR = REPO.parent / "shared" / "corpus" / "aeb"
SAMPLES_DIR = REPO / "agents" / "leaderwatch" / "samples"


@dataclasses.dataclass
class Template:
    """One corpus page: its envelope, the url its copies rewrite, and its truth text (or None)."""

    page_id: str
    envelope: dict
    own_url: str | None
    truth: str | None


def load_templates(folder: Path) -> list[Template]:
    import trafilatura

    truth = read_jsonl(folder / "truth.jsonl") or {}
    templates = []
    for page_id, path in corpus_pages(folder):
        envelope = make_envelope(path, truth.get(page_id))
        own = None
        if not envelope["content_type"].startswith("text/plain"):
            meta = trafilatura.extract_metadata(envelope["body"])
            own = meta.url if meta and meta.url and meta.url in envelope["body"] else None
        text = (truth.get(page_id) or {}).get("article_body")
        templates.append(Template(page_id, envelope, own, text))
    return templates


def fresh_copy(template: Template, copy: int) -> tuple[str, bytes]:
    """(url, envelope JSON) of copy `copy`: a url of its own, also in the page's canonical link."""
    base = template.envelope["url"]
    url = f"{base}{'&' if '?' in base else '?'}lwcopy={copy}"
    body = template.envelope["body"]
    if template.own_url:
        own = template.own_url
        body = body.replace(own, f"{own}{'&' if '?' in own else '?'}lwcopy={copy}")
    return url, orjson.dumps({**template.envelope, "url": url, "body": body, "fetched_at": FETCHED_AT})


# ---------------------------------------------------------------- processes and cores

@functools.cache
def cores() -> tuple[int, ...]:
    """The cores this run may use: the affinity the bench started with. Read once: the bench then
    narrows its own (to the cores left beside the workers, or core 0 for a bare round), and a
    mask read later gave one-core runs a single loop for "every core" (the cores line showed
    0.91-1.07x one core, and the bare rounds ran on the broker's core, not core 0)."""
    return tuple(sorted(os.sched_getaffinity(0)))


def start_workers(settings: Settings, worker_cores: list[set[int]], workdir: Path) -> list[tuple[subprocess.Popen, str]]:
    """One all-stage worker of one app per entry of `worker_cores`, pinned to those cores (its
    clean pool processes inherit the mask)."""
    started = []
    for i, mask in enumerate(worker_cores):
        port = free_port()
        env = {**worker_environment(settings), "LEADERWATCH_WEB_PORT": str(port)}
        log = open(workdir / f"worker-{i}.log", "wb")
        process = subprocess.Popen([sys.executable, "-m", "leaderwatch", "worker", "-l", "warn"], env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                   preexec_fn=lambda mask=mask: os.sched_setaffinity(0, mask))
        started.append((process, f"http://127.0.0.1:{port}"))
    return started


def cores_of_workers(workers: int, cores_each: int) -> list[set[int]]:
    """Worker i's cores: `cores_each` consecutive cores from i * cores_each, wrapping around."""
    here = cores()
    return [{here[(i * cores_each + k) % len(here)] for k in range(cores_each)} for i in range(workers)]


def process_tree(pid: int) -> list[int]:
    """`pid` and its live descendants (a worker's clean pool included)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
    return found


@contextlib.contextmanager
def paused(pids: list[int]):
    """The processes (and their descendants) stopped (SIGSTOP) meanwhile: an idle worker's polls
    would otherwise take CPU from a bare round on its core. Keep each stop short (in_short_pauses):
    one longer than the session timeout makes a group of several workers rebalance."""
    import signal

    stopped = [each for pid in pids for each in process_tree(pid)]
    for each in stopped:
        with contextlib.suppress(OSError):
            os.kill(each, signal.SIGSTOP)
    try:
        yield
    finally:
        for each in stopped:
            with contextlib.suppress(OSError):
                os.kill(each, signal.SIGCONT)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its live descendants (all threads)."""
    total = 0.0
    for each in process_tree(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def rss_mb(pid: int, field: str = "VmRSS:", source: str = "status") -> float:
    """Resident size of a process and its live descendants, MiB. With field="Pss:" and
    source="smaps_rollup": their proportional set size, where a page shared by several of them
    (the interpreter's and lxml's libraries in a worker and its clean processes) counts once in all,
    not once in each."""
    total = 0.0
    for each in process_tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{each}/{source}").read_text().splitlines():
                if line.startswith(field):
                    total += int(line.split()[1]) / 1024
                    break
    return total


def pss_mb(pid: int) -> float:
    return rss_mb(pid, "Pss:", "smaps_rollup")


class RssSampler(threading.Thread):
    """Resident size of each worker every 0.5 s: [(time, [MiB per worker])]; `pss`, each worker's
    proportional set size at the same moments ([[MiB per worker]])."""

    def __init__(self, pids: list[int]):
        super().__init__(daemon=True)
        self.pids, self.samples, self.pss, self.stopped = pids, [], [], threading.Event()

    def run(self):
        while not self.stopped.is_set():
            self.samples.append((time.monotonic(), [rss_mb(pid) for pid in self.pids]))
            self.pss.append([pss_mb(pid) for pid in self.pids])
            self.stopped.wait(0.5)

    def at(self, moment: float) -> list[float]:
        before = [s for t, s in self.samples if t <= moment]
        return before[-1] if before else self.samples[0][1]


def progress_of(urls: list[str]) -> dict | None:
    """The summed /progress/ counters of every worker; None while one does not answer."""
    import urllib.request

    total: dict = {}
    for url in urls:
        try:
            with urllib.request.urlopen(url + "/progress/", timeout=2) as response:
                for key, value in orjson.loads(response.read()).items():
                    total[key] = total.get(key, 0) + value
        except OSError:
            return None
    return total


def ready(urls: list[str]) -> bool:
    import urllib.request

    try:
        return all(orjson.loads(urllib.request.urlopen(u + "/health/", timeout=2).read()).get("ready") for u in urls)
    except OSError:
        return False


async def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(interval)
    raise TimeoutError(what)


# ---------------------------------------------------------------- topics

async def read_records(settings: Settings, topic: str) -> list:
    """Every record of `topic` (key, value, timestamp), read to its end."""
    async with TopicReader(settings, topic, wait_s=1.0, fetch_max_bytes=64 * 1024 * 1024) as reader:
        return [record async for records in reader.batches(timeout_ms=500) for record in records]


# ---------------------------------------------------------------- the bare baseline

BARE_CPU: list[float] = []  # pages per CPU second of each bare round

@contextlib.contextmanager
def on_first_core():
    """This process pinned to core 0 meanwhile (where the bare baseline and the one worker run)."""
    mask = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cores()[0]})
    try:
        yield
    finally:
        os.sched_setaffinity(0, mask)


def bare_times(htmls: list[str]) -> tuple[float, float, list[str | None]]:
    """(wall seconds, CPU seconds, texts) of trafilatura.extract (default options) over `htmls` on core 0."""
    import trafilatura

    with on_first_core():
        start, cpu_start = time.perf_counter(), time.process_time()
        texts = [trafilatura.extract(html) for html in htmls]
        return time.perf_counter() - start, time.process_time() - cpu_start, texts


def bare_round(htmls: list[str]) -> tuple[float, list[str | None]]:
    """Pages/s of trafilatura.extract over `htmls` on core 0, and its texts."""
    wall, cpu, texts = bare_times(htmls)
    BARE_CPU.append(len(htmls) / cpu)
    return len(htmls) / wall, texts


PAUSE_SECONDS = 1.5  # the longest the workers are stopped at a time for a bare measurement ...
RESUME_SECONDS = 1.5  # ... and how long they run between two stops (they heartbeat every second)


def in_short_pauses(pids: list[int], items: list, measure) -> list:
    """measure(chunk) over `items` in consecutive chunks, the workers stopped (paused()) while each
    one runs: about PAUSE_SECONDS at a time, RESUME_SECONDS of running between. One stop longer than
    the workers' session timeout (4 s; a bare round, the all-cores loops and clean_cpu_ms in a row
    took ~12 s) made a group of two workers rebalance at the start of the latency phase. Returns
    the chunks' results in order."""
    results, start, size = [], 0, max(1, len(items) // 8)
    while start < len(items):
        chunk = items[start:start + size]
        began = time.perf_counter()
        with paused(pids):
            results.append(measure(chunk))
        took = time.perf_counter() - began
        start += len(chunk)
        size = max(1, int(len(chunk) * PAUSE_SECONDS / max(took, 1e-3)))
        if start < len(items):
            time.sleep(RESUME_SECONDS)
    return results


def paused_bare_round(pids: list[int], htmls: list[str]) -> float:
    """bare_round's pages/s, in short pauses of the workers."""
    parts = in_short_pauses(pids, htmls, bare_times)
    BARE_CPU.append(len(htmls) / sum(cpu for _, cpu, _ in parts))
    return len(htmls) / sum(wall for wall, _, _ in parts)


def paused_all_cores_round(pids: list[int], htmls: list[str]) -> float:
    """bare_all_cores' pages/s over `htmls`, in short pauses of the workers."""
    return len(htmls) / sum(in_short_pauses(pids, htmls, lambda chunk: len(chunk) / bare_all_cores(chunk)))


def stage_cpu(templates: list[Template]) -> dict[str, dict[str, float]]:
    """page_id -> CPU ms of each stage's work on that page (tools.bench_overhead), on core 0: what
    a page's latency cannot go below, whatever the broker and the stages add."""
    with on_first_core():
        return stage_cpu_ms([(t.page_id, fresh_copy(t, 0)[1]) for t in templates])


def paused_stage_cpu(pids: list[int], templates: list[Template]) -> dict[str, dict[str, float]]:
    """stage_cpu over every corpus page, in short pauses of the workers; warmed first (the
    schema validator, the parser, the matcher are built on the first call)."""
    stage_cpu(templates[:1])
    return {page: ms for part in in_short_pauses(pids, templates, stage_cpu) for page, ms in part.items()}


def _bare_on(core: int, htmls: list[str], results) -> None:
    import trafilatura

    os.sched_setaffinity(0, {core})
    start = time.perf_counter()
    for html in htmls:
        trafilatura.extract(html)
    results.put(len(htmls) / (time.perf_counter() - start))


def bare_all_cores(htmls: list[str]) -> float:
    """Pages/s of one bare loop on every core at once (forked, so the pages are not copied): what
    this machine's cores give together. Two vCPUs here gave 1.5-1.9x one, not 2x."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    loops = [context.Process(target=_bare_on, args=(core, htmls, results)) for core in cores()]
    for loop in loops:
        loop.start()
    rates = [results.get() for _ in loops]
    for loop in loops:
        loop.join()
    return sum(rates)


# ---------------------------------------------------------------- the run

async def bench(folder: Path, pages: int, workers: int, latency_pages: int, clean_processes: int = 0,
                compression: str | None = None, store: str = "memory://", producer_batch_bytes: int | None = None,
                cores_each: int = 1, overrides: dict | None = None, rounds: int = 5, latency_rate: float | None = None,
                backlog: bool = False, kafka_nodes: int = 0) -> dict:
    """The run on the embedded broker, or on a KafkaCluster of `kafka_nodes` (1 or 3) it starts;
    producer_batch_bytes None: the broker's default (tools.bench_kafka.default_batch_bytes)."""
    if producer_batch_bytes is None:
        producer_batch_bytes = default_batch_bytes(kafka_nodes)
    all_cores = cores()  # the machine's, read before this process narrows its own affinity
    templates = load_templates(folder)
    htmls = [t.envelope["body"] for t in templates if not t.envelope["content_type"].startswith("text/plain")]
    bare_rates = []
    _, bare_texts = bare_round(htmls)  # warm-up (imports, caches), and the texts for bare_text_f1

    workdir = Path(tempfile.mkdtemp(prefix="leaderwatch-bench-"))
    masks = cores_of_workers(workers, cores_each)
    others = set(all_cores) - set().union(*masks) or set(all_cores)
    os.sched_setaffinity(0, others)  # this process (the producer) and the broker it starts
    try:
        with bench_broker(kafka_nodes, workdir) as broker:
            settings = Settings(broker=broker.url, app_id=f"bench-{os.getpid()}", datadir=str(workdir / "data"),
                                producer_max_batch_size=producer_batch_bytes, partitions=max(2, workers), clean_processes=clean_processes,
                                store=store)
            settings = dataclasses.replace(settings, **{**broker_settings(kafka_nodes), **(overrides or {})})
            started = start_workers(settings, masks, workdir)
            try:
                urls = [url for _, url in started]
                await wait_for(lambda: ready(urls), 120, "workers not ready")
                sampler = RssSampler([p.pid for p, _ in started])
                sampler.start()
                figures = await run_phases(settings, templates, pages, latency_pages, urls, sampler, bare_rates, htmls,
                                           compression, rounds, latency_rate, backlog, broker.pids)
                sampler.stopped.set()
            finally:
                for process, _ in started:
                    stop_process(process, timeout=15)
            clean = await read_records(settings, settings.topic_clean)
    finally:
        os.sched_setaffinity(0, set(all_cores))
    truth = {f"{t.envelope['url']}{'&' if '?' in t.envelope['url'] else '?'}lwcopy=0": t.truth for t in templates}
    pipeline_f1 = [token_f1(orjson.loads(r.value)["text"], truth[url]) for r in clean
                   if (url := orjson.loads(r.value)["url"]) in truth and truth[url]]
    bare_f1 = [token_f1(text or "", t.truth) for t, text in zip([t for t in templates if t.envelope["content_type"]
                                                                 .startswith("text/html")], bare_texts) if t.truth]
    bare = statistics.mean(bare_rates)
    return {
        "broker": broker.name, "replicas": settings.replicas, "pages": pages, "backlog": backlog, "workers": workers, "clean_processes": clean_processes, "compression": compression, "store": store,
        "producer_batch_bytes": producer_batch_bytes, "rounds": rounds, "cores_per_worker": cores_each, "settings": overrides or {},
        "pipeline_pages_per_s": round(figures["pipeline_pages_per_s"], 2),
        "bare_extract_pages_per_s": round(bare, 2),
        "ratio": round(figures["pipeline_pages_per_s"] / bare, 3),
        # the ceiling on this machine: bare loops on every core at once, against one
        "bare_all_cores_ratio": round(figures["bare_all_cores_pages_per_s"] / bare, 3),
        # the pipeline against that ceiling: what share of the machine's bare capacity it turns into pages
        "ratio_to_all_cores": round(figures["pipeline_pages_per_s"] / figures["bare_all_cores_pages_per_s"], 3),
        **{k: v for k, v in figures.items() if k != "pipeline_pages_per_s"},
        "text_f1": round(statistics.mean(pipeline_f1), 4) if pipeline_f1 else None,
        "bare_text_f1": round(statistics.mean(bare_f1), 4) if bare_f1 else None,
        "bare_rounds_pages_per_s": [round(r, 2) for r in bare_rates],
        "bare_pages_per_cpu_s": round(statistics.mean(BARE_CPU), 2),
        "cpu_ratio": round(figures["pipeline_pages_per_cpu_s"] / statistics.mean(BARE_CPU), 3)
        if figures.get("pipeline_pages_per_cpu_s") else None,
        "total_cpu_ratio": round(figures["pipeline_pages_per_total_cpu_s"] / statistics.mean(BARE_CPU), 3)
        if figures.get("pipeline_pages_per_total_cpu_s") else None,
        "corpus": str(folder), "corpus_pages": len(templates), "cores": len(all_cores),
        "distinct_doc_ids": len({orjson.loads(r.value)["doc_id"] for r in clean}),
    }


async def run_phases(settings, templates, pages, latency_pages, urls, sampler, bare_rates, htmls, compression=None,
                     rounds: int = 5, latency_rate: float | None = None, backlog: bool = False, brokers: list[int] = ()) -> dict:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=settings.broker_bootstrap, compression_type=compression, linger_ms=5,
                                max_request_size=settings.producer_max_request_size)
    await producer.start()
    try:
        # phase 1: throughput, in `rounds` segments with a bare round before each (the machine's
        # speed drifts up to 2x within minutes: pipeline and baseline take turns on the same core)
        pids = sampler.pids
        seconds = worker_cpu = broker_cpu = bench_cpu = 0.0
        tenth, sent, progress = None, 0, {}
        all_cores_rates = []  # the machine's cores together, measured with each one-core round: its scaling drifts too
        backlog_pauses = []  # --backlog: how long the workers were stopped while each segment was sent
        for segment in range(rounds):
            bare_rates.append(paused_bare_round(pids, htmls))
            all_cores_rates.append(paused_all_cores_round(pids, htmls))
            upto = pages * (segment + 1) // rounds
            # the segment's envelopes are built before its clock starts: a crawler's work is not the pipeline's
            values = [fresh_copy(templates[i % len(templates)], i // len(templates)) for i in range(sent, upto)]
            if backlog:  # the segment on pages.raw before the clock starts: the workers stopped while it is sent
                began = time.monotonic()
                with paused(pids):
                    await send_all(producer, settings.topic_raw, values)
                backlog_pauses.append(round(time.monotonic() - began, 2))
            cpu_start, start = sum(cpu_seconds(pid) for pid in pids), time.monotonic()
            broker_start, bench_start = sum(cpu_seconds(pid) for pid in brokers), time.process_time()
            if not backlog:
                await send_all(producer, settings.topic_raw, values)
            sent, values = upto, None
            while not pipeline_done(progress, sent):
                # poll the workers' counters seldom while much is left (each poll is worker CPU), often near the end
                left = sent - min(progress.get("clean_in", 0), progress.get("alert_in", 0))
                await asyncio.sleep(min(0.5, max(0.02, left / 200)))
                progress = progress_of(urls) or progress
                if tenth is None and progress.get("clean_in", 0) >= pages / 10:
                    tenth = time.monotonic()
            seconds += time.monotonic() - start
            worker_cpu += sum(cpu_seconds(pid) for pid in pids) - cpu_start
            broker_cpu += sum(cpu_seconds(pid) for pid in brokers) - broker_start
            bench_cpu += time.process_time() - bench_start
        capacity = pages / seconds
        rss_tenth, rss_end = sampler.at(tenth or 0), sampler.at(time.monotonic())

        bare_rates.append(paused_bare_round(pids, htmls))
        all_cores_rates.append(paused_all_cores_round(pids, htmls))
        all_cores_rate = statistics.mean(all_cores_rates)
        stage_ms = paused_stage_cpu(pids, templates)
        clean_ms = {page: ms["clean"] for page, ms in stage_ms.items()}

        # phase 2: latency at half capacity, sent without linger (the record timestamp is taken at
        # send: a producer's own batching wait is not the pipeline's)
        await producer.stop()
        producer = AIOKafkaProducer(bootstrap_servers=settings.broker_bootstrap, compression_type=compression,
                                    max_request_size=settings.producer_max_request_size)
        await producer.start()
        sent_at: dict[str, int] = {}
        page_of: dict[str, str] = {}  # url -> the corpus page it copies
        interval = 1.0 / latency_rate if latency_rate else 2.0 / capacity
        base = pages // len(templates) + 1
        next_send, waited = time.monotonic(), cpu_wait_s(pids)
        for i in range(latency_pages):
            url, value = fresh_copy(templates[i % len(templates)], base + i // len(templates))
            await asyncio.sleep(max(0.0, next_send - time.monotonic()))
            metadata = await producer.send_and_wait(settings.topic_raw, value, key=url.encode())
            sent_at[url] = metadata.timestamp
            page_of[url] = templates[i % len(templates)].page_id
            next_send += interval
        await wait_for(lambda: pipeline_done(progress_of(urls) or {}, pages + latency_pages), 600, "latency phase")
        waited = cpu_wait_s(pids) - waited
        rss_max = max(max(s) for _, s in sampler.samples)
        pss_max = max(max(s) for s in sampler.pss)
    finally:
        await producer.stop()

    clean = await read_records(settings, settings.topic_clean)
    entities = await read_records(settings, settings.topic_entities)
    alerts = await read_records(settings, settings.topic_alerts)
    doc_of, cleaned_at, extracted_at = {}, {}, {}
    for record in clean:
        value = orjson.loads(record.value)
        if value["url"] in sent_at:
            doc_of[value["doc_id"]] = value["url"]
            cleaned_at[value["url"]] = record.timestamp
    done_at: dict[str, int] = {}
    for record in entities:
        url = doc_of.get(record.key.decode())
        if url:
            done_at[url] = max(done_at.get(url, 0), record.timestamp)
            extracted_at[url] = record.timestamp
    for record in alerts:
        for evidence in orjson.loads(record.value)["evidence"]:
            url = doc_of.get(evidence.get("doc_id"))
            if url:
                done_at[url] = max(done_at.get(url, 0), record.timestamp)
    latencies = sorted(done_at[url] - sent_at[url] for url in done_at)
    # where the time goes, per hop (record timestamps): p50/p99 of raw->clean, clean->entities, entities->last alert
    hops = {"raw_clean": [cleaned_at[u] - sent_at[u] for u in cleaned_at],
            "clean_entities": [extracted_at[u] - cleaned_at[u] for u in extracted_at if u in cleaned_at],
            "entities_done": [done_at[u] - extracted_at[u] for u in extracted_at]}
    hop_ms = {name: [percentile(values, 0.5), percentile(values, 0.99)] for name, values in hops.items()}
    final = progress_of(urls) or {}
    # the pages at and above p99: which corpus pages, and how much of their latency is their own clean CPU
    p99 = percentile(latencies, 0.99)
    tail = sorted(({"page": page_of[u], "latency_ms": done_at[u] - sent_at[u], "clean_cpu_ms": clean_ms.get(page_of[u]),
                    "raw_clean_ms": cleaned_at[u] - sent_at[u] if u in cleaned_at else None}
                   for u in done_at if p99 is not None and done_at[u] - sent_at[u] >= p99), key=lambda t: -t["latency_ms"])
    return {
        "pipeline_pages_per_s": capacity, "bare_all_cores_pages_per_s": round(all_cores_rate, 2),
        "bare_all_cores_rounds_pages_per_s": [round(r, 2) for r in all_cores_rates],
        # CPU time, robust to other load on the machine: pages per worker-CPU-second
        "pipeline_pages_per_cpu_s": round(pages / worker_cpu, 2) if worker_cpu else None,
        # the same with the broker's and the producer's CPU: what the machine spends per page, all told
        "pipeline_pages_per_total_cpu_s": round(pages / total_cpu, 2) if (total_cpu := worker_cpu + broker_cpu + bench_cpu) else None,
        # CPU seconds of phase 1 per process group: the broker and this process (the producer) share the cores
        "phase1_cpu_s": {"workers": round(worker_cpu, 2), "broker": round(broker_cpu, 2), "producer": round(bench_cpu, 2),
                         "wall": round(seconds, 2)},
        "backlog_pauses_s": backlog_pauses,
        "latency_ms_p50": percentile(latencies, 0.5), "latency_ms_p99": percentile(latencies, 0.99),
        "latency_hops_ms_p50_p99": hop_ms, "latency_tail": tail,
        # latency less the page's own CPU in the stages (tools.bench_overhead): what the broker and the machinery add
        **overhead({u: done_at[u] - sent_at[u] for u in done_at}, page_of, stage_ms),
        # the workers' wait for a core during phase 2, per page: other load on the machine, in the overhead
        "latency_cpu_wait_ms_per_page": round(waited * 1000 / max(1, latency_pages), 1),
        "clean_cpu_ms_p50_p99_max": [percentile(list(clean_ms.values()), q) for q in (0.5, 0.99, 1.0)],
        "latency_pages": len(latencies), "latency_rate_pages_per_s": round(1 / interval, 2),
        "worker_rss_mb": round(rss_max, 1),
        # the same in proportional set size: what a worker and its clean processes hold together
        "worker_pss_mb": round(pss_max, 1),
        "rss_growth_mb": round(max(e - t for e, t in zip(rss_end, rss_tenth)), 1),
        "dead_letters": sum(v for k, v in final.items() if k.startswith("dead_")),
        # the workers' full garbage collections over the whole run (each stops a worker's event loop)
        "gc_full_collections": final.get("gc_full_collections", 0), "gc_full_pause_ms": round(final.get("gc_full_pause_ms", 0), 1),
        "gc_full_pause_ms_max_sum": round(final.get("gc_full_pause_ms_max", 0), 1), "gc_frozen_objects": final.get("gc_frozen_objects", 0),
    }


async def send_all(producer, topic: str, values: list[tuple[str, bytes]]) -> None:
    """Each (url, envelope JSON) to `topic`, keyed by its url, and wait until the broker has them all."""
    for url, value in values:
        await producer.send(topic, value, key=url.encode())
    await producer.flush()


def percentile(values: list, q: float):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=AEB_DIR if AEB_DIR.is_dir() else SAMPLES_DIR)
    parser.add_argument("--pages", type=int, default=1000, help="pages through the pipeline in phase 1 (default 1000)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes, each on its own core (default 1)")
    parser.add_argument("--latency-pages", type=int, default=200, help="pages sent one by one in phase 2 (default 200)")
    parser.add_argument("--clean-processes", type=int, default=0,
                        help="LEADERWATCH_CLEAN_PROCESSES of each worker (default 0: clean in the event loop)")
    parser.add_argument("--latency-rate", type=float, default=None,
                        help="pages/s of phase 2 (default: half of phase 1's measured capacity); fix it to compare settings at one load")
    parser.add_argument("--rounds", type=int, default=5,
                        help="phase 1 in this many segments, a bare round before each and one after (default 5)")
    parser.add_argument("--cores-per-worker", type=int, default=1,
                        help="cores each worker (and its clean pool) is pinned to (default 1)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="any other worker setting (a Settings field), e.g. --set consumer_fetch_max_wait_ms=5")
    parser.add_argument("--compression", choices=["gzip", "lz4", "zstd", "snappy"], default=None,
                        help="compress pages.raw (the embedded broker keeps every byte in memory: use it for long runs)")
    parser.add_argument("--backlog", action="store_true",
                        help="phase 1 reads a backlog: each segment is on pages.raw before its clock starts (sent while "
                             "the workers are stopped), as in a replay or a catch-up; the producer's CPU is then out of the figure")
    parser.add_argument("--store", default="memory://", help="the workers' table store (compose uses rocksdb://)")
    parser.add_argument("--producer-batch-bytes", type=int, default=None,
                        help="the workers' LEADERWATCH_PRODUCER_MAX_BATCH_SIZE (default 1 on the embedded broker, as "
                             "./scripts/run; 16384, the production default, on --kafka)")
    parser.add_argument("--kafka", type=int, choices=[1, 3], default=0, metavar="NODES",
                        help="run on Apache Kafka, a cluster of 1 or 3 KRaft nodes the bench starts (3: replicas=3), "
                             "instead of the embedded broker")
    args = parser.parse_args()
    try:
        overrides = Settings.overrides_from(args.set)
    except ValueError as exc:
        parser.error(str(exc))
    figures = asyncio.run(bench(args.corpus, args.pages, args.workers, args.latency_pages, args.clean_processes,
                                args.compression, args.store, args.producer_batch_bytes, args.cores_per_worker, overrides,
                                args.rounds, args.latency_rate, args.backlog, args.kafka))
    print(f"{figures['pages']} pages of {figures['corpus']} through {figures['workers']} worker(s), all stages, broker {figures['broker']}"
          + (f"; read as a backlog (each segment sent while the workers were stopped: {figures['backlog_pauses_s']} s)"
             if figures["backlog"] else ""))
    print(f"pipeline  {figures['pipeline_pages_per_s']:>8} pages/s   bare trafilatura.extract {figures['bare_extract_pages_per_s']} "
          f"pages/s on one core (rounds {figures['bare_rounds_pages_per_s']}): ratio {figures['ratio']}")
    print(f"cores     bare loops on all {figures['cores']} cores at once: {figures['bare_all_cores_pages_per_s']} pages/s = "
          f"{figures['bare_all_cores_ratio']}x one (rounds {figures['bare_all_cores_rounds_pages_per_s']}; the ceiling of any "
          f"ratio here); the pipeline made {figures['ratio_to_all_cores']}x of that")
    print(f"latency   p50 {figures['latency_ms_p50']} ms, p99 {figures['latency_ms_p99']} ms at {figures['latency_rate_pages_per_s']} pages/s "
          f"(per hop p50/p99: {figures['latency_hops_ms_p50_p99']})")
    print(f"tail      the pages at or above p99 (corpus page: latency / its own clean CPU ms): "
          + ", ".join(f"{t['page']}: {t['latency_ms']}/{t['clean_cpu_ms']}" for t in figures["latency_tail"])
          + f"; clean CPU per corpus page p50/p99/max {figures['clean_cpu_ms_p50_p99_max']} ms")
    print(f"overhead  latency less the page's own stage CPU: p50 {figures['overhead_ms_p50']} ms, p99 {figures['overhead_ms_p99']} ms "
          f"(stage CPU per corpus page p50/p99/max {figures['stage_cpu_ms_p50_p99_max']} ms; per stage p50 {figures['stage_cpu_ms_p50']}; the workers waited "
          f"{figures['latency_cpu_wait_ms_per_page']} ms a page for a core meanwhile)")
    print(f"CPU       phase 1 seconds {figures['phase1_cpu_s']} ({figures['pipeline_pages_per_cpu_s']} pages per worker-CPU-second, "
          f"bare {figures['bare_pages_per_cpu_s']}: CPU ratio {figures['cpu_ratio']}; with the broker's and producer's CPU "
          f"{figures['pipeline_pages_per_total_cpu_s']}: {figures['total_cpu_ratio']})")
    print(f"gc        {figures['gc_full_collections']} full collections, {figures['gc_full_pause_ms']} ms in all, the longest "
          f"{figures['gc_full_pause_ms_max_sum']} ms (summed over workers); {figures['gc_frozen_objects']} objects frozen at start")
    print(f"memory    worker max {figures['worker_rss_mb']} MiB resident ({figures['worker_pss_mb']} MiB proportional: shared pages "
          f"counted once), growth after the first 10% {figures['rss_growth_mb']} MiB")
    print(f"text F1   pipeline {figures['text_f1']}  bare trafilatura {figures['bare_text_f1']}")
    print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
