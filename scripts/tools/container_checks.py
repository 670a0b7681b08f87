"""The checks the container test runs on one compose topology (tools.containers starts it, reports them).

run_topology(): up (every stage's /health/ 200), on Apache Kafka the topics' partitions, retention and
compaction as scripts/create-topics sets them, and `extract` scaled to 2 replicas that split its
partitions; ingest the samples from a container, every page through every stage, mentions (host port
and CLI), the engagement alert, uid 10001, `restart` of mentions keeps RocksDB, `stop` within the grace
period. Each step is timed and each check recorded in a Section.
"""
from __future__ import annotations

import collections
import json
import re
import time

from tools.containers import (ROOT, SAMPLES, STAGES, TAKAICHI, KIM, UID, Section, Topology, _run, host_get, poll,
                              processes_uids, seconds, start_order, totals)

SCALED = "extract"  # the stage the Apache Kafka run scales to 2 replicas (stateless, 6 partitions of pages.clean)
CREATE_TOPICS = ROOT / "scripts" / "create-topics"
JVM_SIGTERM = 143  # a JVM stopped by SIGTERM exits 128 + 15 once its shutdown hooks ran (the broker's clean shutdown)


def expected_topics(topics_env: dict[str, str]) -> dict[str, tuple[int, dict[str, str]]]:
    """{topic: (partitions, {config: value})} as scripts/create-topics creates them with this environment."""
    partitions = int(topics_env.get("LEADERWATCH_PARTITIONS") or 6)
    counts = {"$PARTITIONS": partitions, "1": 1,
              "$PARTITIONS_RAW": int(topics_env.get("LEADERWATCH_PARTITIONS_RAW") or 0) or partitions,
              "$PARTITIONS_CLEAN": int(topics_env.get("LEADERWATCH_PARTITIONS_CLEAN") or 0) or partitions}
    out = {}
    for variable, default, count, rest in re.findall(r'^create "\$\{(\w+):-([^}]+)\}" "?(\$?\w+)"?(.*)$',
                                                     CREATE_TOPICS.read_text(), re.M):
        configs = dict(item.split("=", 1) for item in re.findall(r"--config (\S+)", rest))
        out[topics_env.get(variable) or default] = (counts[count], configs)
    return out


def described_topics(topology: Topology) -> dict[str, tuple[int, dict[str, str]]]:
    """{topic: (partitions, {config: value})} as the broker reports them (kafka-topics.sh --describe in its image)."""
    done = topology.exec("kafka", ["/opt/kafka/bin/kafka-topics.sh", "--bootstrap-server", "localhost:9092",
                                   "--describe", "--exclude-internal"], timeout=90)
    out = {}
    for line in done.stdout.splitlines():
        fields = dict(re.findall(r"(\w+): ?(\S*)", line))
        if line.startswith("Topic:") and "PartitionCount" in fields:
            configs = dict(item.split("=", 1) for item in fields.get("Configs", "").split(",") if "=" in item)
            out[fields["Topic"]] = (int(fields["PartitionCount"]), configs)
    return out


def group_assignment(topology: Topology, topic: str) -> dict[str, set[int]]:
    """{container: partitions of `topic` it owns}, from the consumer groups the broker describes."""
    done = topology.exec("kafka", ["/opt/kafka/bin/kafka-consumer-groups.sh", "--bootstrap-server", "localhost:9092",
                                   "--describe", "--all-groups"], timeout=90)
    by_ip = {topology.ip(SCALED, index): name
             for index, name in enumerate(topology.containers(SCALED), start=1)}
    owned: dict[str, set[int]] = collections.defaultdict(set)
    for line in done.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 9 and fields[1] == topic and fields[2].isdigit() and fields[6] != "-":
            owned[by_ip.get(fields[7].lstrip("/"), fields[7])].add(int(fields[2]))
    return dict(owned)


def check_topics(topology: Topology, section: Section) -> None:
    """The topics on Apache Kafka: partitions, retention, size limits and compaction as create-topics sets them."""
    began = time.monotonic()
    expected = expected_topics(topology.environment("topics"))
    found = described_topics(topology)
    section.step("topics described", began, "kafka-topics.sh --describe in the kafka container")
    wrong = {topic: {"expected": want, "found": found.get(topic)} for topic, want in expected.items()
             if found.get(topic) is None or found[topic][0] != want[0]
             or any(found[topic][1].get(k) != v for k, v in want[1].items())}
    leaders = [t for t, (_, c) in expected.items() if c.get("cleanup.policy") == "compact"]
    section.figures["topics"] = {t: {"partitions": p, **c} for t, (p, c) in found.items() if t in expected}
    section.check("the topics have create-topics' partitions, retention and compaction", not wrong and bool(expected),
                  f"{len(expected)} topics; {', '.join(leaders)} {found.get(leaders[0], (0, {}))[1].get('cleanup.policy') if leaders else ''}; "
                  f"pages.raw retention.ms {found.get('pages.raw', (0, {}))[1].get('retention.ms')}"
                  if not wrong else json.dumps(wrong)[:600])


def check_scaled(topology: Topology, section: Section) -> None:
    """A second `extract` container: both healthy, each owning some of pages.clean's partitions, none twice."""
    began = time.monotonic()
    topology.scale(SCALED, 2)
    topic = topology.environment(SCALED).get("LEADERWATCH_TOPIC_CLEAN") or "pages.clean"
    partitions = described_topics(topology).get(topic, (0, {}))[0]

    def split():
        if any(topology.get(SCALED, "/health/", index=i)[0] != 200 for i in (1, 2)):
            return None
        owned = group_assignment(topology, topic)
        mine = [owned.get(name, set()) for name in topology.containers(SCALED)]
        together = set().union(*mine)
        if all(mine) and sum(map(len, mine)) == len(together) == partitions:
            return dict(zip(topology.containers(SCALED), mine))
        return None

    found = poll(split, timeout=90, interval=1)
    section.step(f"scale {SCALED}=2", began, "until both are healthy and the group splits the partitions")
    section.figures["scaled"] = {name: sorted(p) for name, p in (found or group_assignment(topology, topic)).items()}
    section.check(f"`{SCALED}` scaled to 2 replicas splits {topic}'s partitions", bool(found),
                  "; ".join(f"{name}: {sorted(p)}" for name, p in (found or {}).items()) or json.dumps(section.figures["scaled"]))


def run_topology(topology: Topology, section: Section, apache: bool) -> None:
    """Start the topology, run every check on it, stop it (the caller removes it)."""
    began = time.monotonic()
    topology.create_shared()
    topology.up()
    section.step("up (containers started)", began, ", ".join(start_order(topology.services)))
    unhealthy = set(STAGES)
    deadline = time.monotonic() + 150
    while unhealthy and time.monotonic() < deadline:
        unhealthy = {s for s in unhealthy if topology.get(s, "/health/")[0] != 200}
        time.sleep(0.5 if unhealthy else 0)
    section.figures["all_healthy_seconds"] = round(section.step("all healthy", began, "every stage's /health/ 200 (from the first container)"), 1)
    section.check("every stage's /health/ is 200", not unhealthy, f"not healthy: {sorted(unhealthy)}" if unhealthy else "clean extract mentions alert")
    if unhealthy:
        for service in sorted(unhealthy):
            print(f"--- {service} log\n{topology.logs(service)}")
        raise RuntimeError("the topology did not become healthy")
    if apache:
        check_topics(topology, section)
        check_scaled(topology, section)

    # ---- ingest the samples from a container, as `compose run --rm --no-deps -v samples:/pages:ro clean ingest /pages`
    began = time.monotonic()
    pages = len([p for p in SAMPLES.iterdir() if p.suffix in (".html", ".txt", ".gz")])
    done = topology.cli("clean", "ingest", "/pages", extra=["-v", f"{SAMPLES}:/pages:ro"])
    section.step("ingest", began, (done.stdout.strip().splitlines() or [done.stderr[-300:]])[-1])
    section.check("ingest from a container", done.returncode == 0 and f"sent {pages} pages" in done.stdout, f"{pages} sample pages")

    def merged_progress():
        found = collections.Counter()
        for stage in STAGES:
            for index in range(1, topology.replicas.get(stage, 1) + 1):
                found.update(topology.get(stage, "/progress/", index=index)[1] or {})
        return found

    from leaderwatch.ops.workers import pipeline_done

    began = time.monotonic()
    progress = poll(lambda: (lambda p: p if pipeline_done(p, pages) else None)(merged_progress()), timeout=120)
    section.step("pipeline done", began, "every page through every stage (/progress/ of every worker)")
    section.check("every page passes every stage", progress is not None, json.dumps(dict(progress or merged_progress()))[:400])
    if topology.replicas.get(SCALED, 1) > 1:
        section.figures["scaled_pages"] = {name: (topology.get(SCALED, "/progress/", index=i)[1] or {}).get(f"{SCALED}_in", 0)
                                           for i, name in enumerate(topology.containers(SCALED), start=1)}

    # ---- mentions: the host port compose publishes, and the CLI in a container
    body = poll(lambda: (lambda b: b if {TAKAICHI, KIM} <= set(totals(b)) else None)(host_get(topology.mentions_port, "/mentions/?top=100")),
                timeout=30)
    before = totals(body)
    section.check("mentions lists Takaichi and Kim Jong Un", {TAKAICHI, KIM} <= set(before),
                  f"{len(before)} leaders on the host port {topology.mentions_port}; Takaichi {before.get(TAKAICHI)}, Kim {before.get(KIM)}")
    done = topology.cli("mentions", "mentions", "--json", "--top", "100", extra=["-e", "LEADERWATCH_WEB_HOST=mentions"])
    try:
        via_cli = totals(json.loads(done.stdout))
    except ValueError:
        via_cli = {}
    section.check("`leaderwatch mentions` in a container agrees", via_cli == before and bool(before), done.stderr[-300:] if done.returncode else "")

    # ---- alerts: the engagement alert on the alerts topic
    began = time.monotonic()

    def engagement():
        done = topology.cli("alert", "alerts", "--json", "--kind", "engagement")
        for line in done.stdout.splitlines():
            if line.startswith("{") and {TAKAICHI, KIM} <= {l["qid"] for l in json.loads(line)["leaders"]}:
                return json.loads(line)
        return None

    alert = poll(engagement, timeout=60, interval=2)
    section.step("alerts read", began, "`leaderwatch alerts --json --kind engagement` in a container")
    section.check("the alerts topic has the Takaichi-Kim engagement alert", bool(alert), (alert or {}).get("alert_id", "none"))

    # ---- uid 10001 in every container of the leaderwatch image (while everything runs)
    running = [(s, i) for s in start_order(topology.services) if topology.uses_app_image(s)
               for i in range(1, topology.replicas.get(s, 1) + 1) if topology.state(s, i).get("Running")]
    wrong = {}
    for service, index in running:
        found = processes_uids(topology, service, index)
        wrong.update({f"{service}_{index}: {p}": u for p, u in found.items() if set(u) != {UID}})
        if not found:
            wrong[f"{service}_{index}"] = ["no processes listed"]
    names = ", ".join(s if i == 1 else f"{s}_{i}" for s, i in running)
    section.check(f"every process runs as uid {UID}", not wrong, f"{len(running)} containers ({names})" if not wrong else str(wrong)[:400])

    # ---- restart of the mentions container: RocksDB state on its volume, same totals after
    listing = ["sh", "-c", "ls -d /app/var/*/*/ && find /app/var -name CURRENT | head -3"]
    slot = topology.exec("mentions", listing).stdout.split()
    began = time.monotonic()
    grace = int(seconds(topology.services["mentions"].get("stop_grace_period", "10s")))
    _run([topology.engine, "restart", "-t", grace, topology.container("mentions")], timeout=grace + 60, check=True)
    restarted = poll(lambda: topology.get("mentions", "/health/")[0] == 200, timeout=90, interval=0.5)
    after_body = poll(lambda: (lambda b: b if totals(b) == before else None)(host_get(topology.mentions_port, "/mentions/?top=100")),
                      timeout=30, interval=0.5)
    section.step("restart mentions", began, "until healthy with the same totals")
    after = totals(after_body) if after_body else totals(host_get(topology.mentions_port, "/mentions/?top=100"))
    slot_after = topology.exec("mentions", listing).stdout.split()
    section.check("RocksDB state survives `restart` of mentions", bool(restarted) and after == before and bool(slot) and slot_after == slot
                  and any(path.endswith("CURRENT") for path in slot),
                  f"totals {'equal' if after == before else f'{before} -> {after}'}; RocksDB in {slot[:1]}")

    # ---- stop: reverse start order, each within its grace period; exit 0 (a JVM broker: 143, its shutdown on SIGTERM)
    began = time.monotonic()
    stopped = {}
    for service in reversed(start_order(topology.services)):
        for index in range(topology.replicas.get(service, 1), 0, -1):
            if not topology.state(service, index).get("Running"):
                continue
            grace = seconds(topology.services[service].get("stop_grace_period", "10s"))
            t0 = time.monotonic()
            _run([topology.engine, "stop", "-t", int(grace), topology.container(service, index)], timeout=grace + 60)
            name = service if index == 1 else f"{service}_{index}"
            stopped[name] = (topology.state(service, index).get("ExitCode"), round(time.monotonic() - t0, 1), grace,
                             (0,) if topology.uses_app_image(service) else (0, JVM_SIGTERM))
    section.step("stop", began, " ".join(f"{s}={c}/{t}s" for s, (c, t, _, _) in stopped.items()))
    bad = {s: v for s, v in stopped.items() if v[0] not in v[3] or v[1] >= v[2]}
    section.check("`stop` ends every container cleanly within its grace period", not bad and len(stopped) >= len(STAGES) + 1,
                  "; ".join(f"{s} exit {c} in {t} s (grace {g:.0f} s)" for s, (c, t, g, _) in stopped.items()))
    section.figures["stop"] = {s: {"exit": c, "seconds": t} for s, (c, t, _, _) in stopped.items()}
