"""Apache Kafka on this machine, for tests, faults and benchmarks: KRaft nodes on loopback ports.

  install()          the broker's jars, fetched by Maven on first use into a cache folder
                     (~/.cache/leaderwatch/kafka-<version>/lib), then reused: nothing downloads later
  KafkaCluster(n)    n combined broker+controller nodes (1 or 3), formatted with one cluster id,
                     started, ready once each has logged "Kafka Server started" (its port opens
                     earlier); kill/start/pause/resume one node for the fault runs; stop() all
  ./scripts/kafka    up [--nodes 1|3] / down / status, the same cluster detached (state in its folder)

One node: the internal topics (offsets, transactions, share groups) at replication factor 1, or
groups and transactions never get a coordinator. Three nodes: replication factor 3,
min.insync.replicas 2, and short broker session / heartbeat / replica lag times so a killed node
is fenced and dropped from the ISR in seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from leaderwatch.ops.broker import free_port

KAFKA_VERSION = os.environ.get("LEADERWATCH_KAFKA_VERSION", "4.1.2")
BROKER_DIR = Path(__file__).resolve().parents[1] / "kafka-broker"  # pom.xml, log4j2.properties
READY_LINE = "Kafka Server started"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "leaderwatch" / f"kafka-{KAFKA_VERSION}"


def install(quiet: bool = True) -> Path:
    """The folder of the broker's runtime jars, filled by Maven the first time (~45 MB)."""
    lib = cache_dir() / "lib"
    done = cache_dir() / ".installed"
    if done.is_file():
        return lib
    print(f"kafka: installing Apache Kafka {KAFKA_VERSION} through Maven into {lib} ...", file=sys.stderr, flush=True)
    lib.mkdir(parents=True, exist_ok=True)
    command = ["mvn", "-B", *(["-q"] if quiet else []), "-f", str(BROKER_DIR / "pom.xml"), DEPENDENCY_PLUGIN,
               f"-Dkafka.version={KAFKA_VERSION}", "-DincludeScope=runtime", f"-DoutputDirectory={lib}"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"kafka: Maven could not fetch the broker (exit {result.returncode}):\n"
                           f"{result.stdout[-3000:]}{result.stderr[-2000:]}")
    done.write_text(KAFKA_VERSION + "\n")
    return lib


def node_properties(node_id: int, port: int, voters: str, log_dir: Path, nodes: int,
                    client: tuple[int, int] | None = None) -> dict[str, str]:
    """server.properties of one combined KRaft node; `voters` is "1@127.0.0.1:C1,2@...";
    `client` = (port, advertised port): a CLIENT listener too, advertised elsewhere (a proxy)."""
    replication = "1" if nodes == 1 else "3"
    listeners = f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://{voters.split(',')[node_id - 1].split('@')[1]}"
    advertised = f"PLAINTEXT://127.0.0.1:{port}"
    protocols = "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
    if client:
        listeners += f",CLIENT://127.0.0.1:{client[0]}"
        advertised += f",CLIENT://127.0.0.1:{client[1]}"
        protocols += ",CLIENT:PLAINTEXT"
    props = {
        "process.roles": "broker,controller",
        "node.id": str(node_id),
        "controller.quorum.voters": voters,
        "listeners": listeners,
        "advertised.listeners": advertised,
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": protocols,
        "log.dirs": str(log_dir),
        "offsets.topic.replication.factor": replication,
        "offsets.topic.num.partitions": "3",
        "transaction.state.log.replication.factor": replication,
        "transaction.state.log.min.isr": "1" if nodes == 1 else "2",
        "transaction.state.log.num.partitions": "3",
        "share.coordinator.state.topic.replication.factor": replication,
        "share.coordinator.state.topic.min.isr": "1" if nodes == 1 else "2",
        "default.replication.factor": replication,
        "min.insync.replicas": "1" if nodes == 1 else "2",
        "group.initial.rebalance.delay.ms": "0",
        "num.network.threads": "2",
        "num.io.threads": "2",
        "background.threads": "2",
        "num.recovery.threads.per.data.dir": "1",
        "log.cleaner.dedupe.buffer.size": "2097152",
        "log.cleaner.threads": "1",
        # a page is at most LEADERWATCH_MAX_PAGE_BYTES (2 MiB) plus its envelope; the producer's
        # max_request_size is 4 MiB: the broker takes what the workers may send
        "message.max.bytes": str(5 * 1024 * 1024),
        "replica.fetch.max.bytes": str(5 * 1024 * 1024),
        "auto.create.topics.enable": "true",
    }
    if nodes > 1:
        props.update({"broker.session.timeout.ms": "3000", "broker.heartbeat.interval.ms": "500",
                      "replica.lag.time.max.ms": "5000", "controller.quorum.fetch.timeout.ms": "3000",
                      "controller.quorum.election.timeout.ms": "1500"})
    return props


class KafkaCluster:
    """`nodes` KRaft nodes under `workdir` (node-N/{server.properties,data,broker.log}).

    `client_advertised`: one port per node; each node then also listens on `client_ports[n]`
    (listener CLIENT) and advertises that listener at the given port (a proxy in front of it:
    tools/faults.py cuts the clients off while the nodes still reach each other on PLAINTEXT);
    `client_url` is what clients bootstrap from then."""

    def __init__(self, workdir: Path, nodes: int = 1, heap_mb: int = 384, client_advertised: list[int] | None = None):
        if nodes not in (1, 3):
            raise ValueError("nodes: 1 or 3")
        if client_advertised is not None and len(client_advertised) != nodes:
            raise ValueError("client_advertised: one port per node")
        self.workdir, self.nodes, self.heap_mb = Path(workdir), nodes, heap_mb
        self.lib = install()
        self.ports = [free_port() for _ in range(nodes)]
        self.client_advertised = client_advertised
        self.client_ports = [free_port() for _ in range(nodes)] if client_advertised else []
        controllers = [free_port() for _ in range(nodes)]
        self.voters = ",".join(f"{n + 1}@127.0.0.1:{controllers[n]}" for n in range(nodes))
        self.processes: dict[int, subprocess.Popen] = {}

    # -------------------------------------------------------------- layout
    def node_dir(self, node: int) -> Path:
        return self.workdir / f"node-{node}"

    def log_path(self, node: int) -> Path:
        return self.node_dir(node) / "broker.log"

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port in self.ports)

    @property
    def url(self) -> str:
        """The LEADERWATCH_BROKER value: kafka://host:port,host:port (Faust and aiokafka take both)."""
        return "kafka://" + self.bootstrap

    @property
    def client_url(self) -> str:
        """The LEADERWATCH_BROKER value through the CLIENT listeners' advertised ports (else `url`)."""
        if not self.client_advertised:
            return self.url
        return "kafka://" + ",".join(f"127.0.0.1:{port}" for port in self.client_advertised)

    def java(self, main: str, *args: str, heap_mb: int = 64) -> list[str]:
        return ["java", f"-Xmx{heap_mb}m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={BROKER_DIR / 'log4j2.properties'}", "-cp", f"{self.lib}/*", main, *args]

    # -------------------------------------------------------------- life cycle
    def format(self) -> None:
        cluster_id = self.cluster_id()
        for node in range(1, self.nodes + 1):
            folder = self.node_dir(node)
            (folder / "data").mkdir(parents=True, exist_ok=True)
            client = (self.client_ports[node - 1], self.client_advertised[node - 1]) if self.client_advertised else None
            props = node_properties(node, self.ports[node - 1], self.voters, folder / "data", self.nodes, client)
            (folder / "server.properties").write_text("".join(f"{k}={v}\n" for k, v in props.items()))
            subprocess.run(self.java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c",
                                     str(folder / "server.properties"), "--ignore-formatted"),
                           check=True, capture_output=True)

    def cluster_id(self) -> str:
        """A KRaft cluster id (22 characters of URL-safe base64, as StorageTool random-uuid makes),
        never starting with "-": StorageTool would read `-t -xyz` as an option and fail (1 id in 64;
        Kafka's Uuid.randomUuid skips those for the same reason)."""
        import base64

        while True:
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            if not cluster_id.startswith("-"):
                return cluster_id

    def start(self, node: int | None = None, timeout: float = 90.0) -> None:
        """Start one node (or every node) and wait until it is ready."""
        targets = [node] if node else list(range(1, self.nodes + 1))
        marks = {}
        for n in targets:
            log_path = self.log_path(n)
            marks[n] = log_path.stat().st_size if log_path.exists() else 0
            log = open(log_path, "ab")
            self.processes[n] = subprocess.Popen(
                self.java("kafka.Kafka", str(self.node_dir(n) / "server.properties"), heap_mb=self.heap_mb),
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            log.close()
        for n in targets:
            self.wait_ready(n, marks[n], timeout)

    def wait_ready(self, node: int, mark: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path(node), "rb") as log:
                log.seek(mark)
                if READY_LINE.encode() in log.read():
                    return
            if self.processes[node].poll() is not None:
                raise RuntimeError(f"kafka node {node} exited ({self.processes[node].returncode}):\n"
                                   + self.log_path(node).read_text(errors="replace")[-3000:])
            time.sleep(0.1)
        raise TimeoutError(f"kafka node {node} not ready within {timeout} s (log: {self.log_path(node)})")

    def signal(self, node: int, signum: int) -> None:
        process = self.processes.get(node)
        if process and process.poll() is None:
            os.kill(process.pid, signum)

    def kill(self, node: int) -> None:
        """SIGKILL one node: no clean shutdown, its log as it was."""
        self.signal(node, signal.SIGKILL)
        self.processes[node].wait()

    def pause(self, node: int) -> None:
        """SIGSTOP: the node stops answering (connections stay open, nothing moves): cut off."""
        self.signal(node, signal.SIGSTOP)

    def resume(self, node: int) -> None:
        self.signal(node, signal.SIGCONT)

    def stop(self) -> None:
        for n, process in self.processes.items():
            if process.poll() is None:
                self.resume(n)
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> "KafkaCluster":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.format()
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -------------------------------------------------------------- detached (./scripts/kafka)
    def save_state(self) -> None:
        state = {"url": self.url, "nodes": self.nodes, "pids": {n: p.pid for n, p in self.processes.items()}}
        (self.workdir / "cluster.json").write_text(json.dumps(state))


def default_dir() -> Path:
    return Path(os.environ.get("LEADERWATCH_KAFKA_DIR", "var/kafka"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./scripts/kafka", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "status", "install"])
    parser.add_argument("--nodes", type=int, choices=[1, 3], default=1)
    parser.add_argument("--dir", type=Path, default=None, help="where the nodes keep their data and logs (var/kafka)")
    parser.add_argument("--heap-mb", type=int, default=384)
    args = parser.parse_args(argv)
    workdir = (args.dir or default_dir()).resolve()
    state_path = workdir / "cluster.json"
    if args.command == "install":
        print(install())
        return 0
    if args.command in ("down", "status"):
        if not state_path.is_file():
            print(f"kafka: no cluster under {workdir}", file=sys.stderr)
            return 0 if args.command == "down" else 1
        state = json.loads(state_path.read_text())
        alive = {n: pid for n, pid in state["pids"].items() if _alive(pid)}
        if args.command == "status":
            print(f"LEADERWATCH_BROKER={state['url']}  nodes up: {len(alive)}/{state['nodes']}")
            return 0 if alive else 1
        for pid in alive.values():
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in alive.values()) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in alive.values():
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        state_path.unlink()
        print(f"kafka: stopped {len(alive)} node(s)", file=sys.stderr)
        return 0
    if state_path.is_file() and any(_alive(pid) for pid in json.loads(state_path.read_text())["pids"].values()):
        print(f"kafka: a cluster is already up under {workdir} (./scripts/kafka down first)", file=sys.stderr)
        return 1
    if workdir.exists():
        import shutil

        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    cluster = KafkaCluster(workdir, args.nodes, args.heap_mb)
    cluster.format()
    cluster.start()
    cluster.save_state()
    print(f"LEADERWATCH_BROKER={cluster.url}")
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie (exited, not yet reaped) is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return True


if __name__ == "__main__":
    sys.exit(main())
