"""The container test: build the image, run docker-compose.yml's topologies on it for real, check them.

Two topologies, each what `docker-compose -f FILE... config` resolves (the compose files themselves, so
it cannot drift from them), started service by service with the engine's own commands (podman or
docker: one container per service, the same environment, volumes, command, network alias, restart
policy and stop grace period, in depends_on order), never pulling:

  apache-kafka  docker-compose.yml: Apache Kafka (where no registry answers, the local stand-in image
                of the name it gives, tools.kafka_image), topic creation, every stage
  embedded      docker-compose.yml + docker-compose.embedded.yml: the image's own broker

Steps (each timed): build; per topology (tools.container_checks): up (every stage's /health/ 200), on
Apache Kafka the topics' retention and compaction and `extract` scaled to 2 replicas splitting its
partitions; ingest the samples from a container; mentions lists Takaichi and Kim Jong Un, the alerts
topic holds their engagement alert, the mentions totals survive `restart` of its container (RocksDB on
its volume), every process of the image runs as uid 10001, `stop` ends each container cleanly within
its grace period; then the other commands in the image: `demo` on a read-only root file system,
`--help`. The last line is JSON with the figures and each check's outcome, per topology.

    ./scripts/test-containers [--keep] [--engine podman|docker] [--project NAME] [--topology NAME]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGIES = {"apache-kafka": ("docker-compose.yml",), "embedded": ("docker-compose.yml", "docker-compose.embedded.yml")}
STAGES = ("clean", "extract", "mentions", "alert")
SAMPLES = ROOT / "agents" / "leaderwatch" / "samples"
TAKAICHI, KIM = "Q1705028", "Q56226"
UID = 10001
PREPARE = "../shared/container/prepare"


# ---------------------------------------------------------------- can a container engine run here?

def base_image() -> str:
    """The Dockerfile's base image, as the engine names it (docker.io/library/... for short names)."""
    name = re.search(r"^FROM\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.M)[1]
    if "/" not in name.split(":")[0]:
        name = "docker.io/library/" + name
    return name


def compose_command() -> list[str] | None:
    """A compose client to resolve the compose files (`config` only, which needs no engine)."""
    if shutil.which("docker-compose"):
        return [shutil.which("docker-compose")]
    if shutil.which("docker") and _run([shutil.which("docker"), "compose", "version"]).returncode == 0:
        return [shutil.which("docker"), "compose"]
    return None


def engine_problem(engine: str | None = None) -> tuple[str | None, str]:
    """(engine executable, "") when containers can be built and run here, else (None, why not)."""
    wanted = [engine or os.environ.get("CONTAINER_ENGINE")] if (engine or os.environ.get("CONTAINER_ENGINE")) else ["podman", "docker"]
    reasons = []
    for name in wanted:
        exe = shutil.which(name)
        if exe is None:
            reasons.append(f"{name} is not installed")
            continue
        info = _run([exe, "info"], timeout=60)
        if info.returncode != 0:
            last = (info.stderr.strip().splitlines() or ["?"])[-1]
            reasons.append(f"{name} cannot run containers ({last[:200]})")
            continue
        if Path(exe).name == "podman" and _run([exe, "image", "exists", base_image()]).returncode != 0:
            reasons.append(f"podman has no base image {base_image()} and no registry to pull it from "
                           f"(run {PREPARE} as root)")
            continue
        if compose_command() is None:
            return None, "no compose client to resolve the compose files (Debian: apt-get install docker-compose)"
        return exe, ""
    return None, "; ".join(reasons) or "no container engine"


# ---------------------------------------------------------------- helpers

def _run(argv, timeout: float = 120, check: bool = False, **kwargs) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired as exc:
        done = subprocess.CompletedProcess(argv, 124, exc.stdout or "", (exc.stderr or "") + f"\ntimed out after {timeout} s")
        if isinstance(done.stdout, bytes):
            done.stdout, done.stderr = done.stdout.decode(errors="replace"), str(done.stderr)
    except FileNotFoundError as exc:
        done = subprocess.CompletedProcess(argv, 127, "", str(exc))
    if check and done.returncode != 0:
        raise RuntimeError(f"{shlex.join(map(str, argv))} -> {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seconds(value) -> float:
    """A compose duration ("30s", "1m30s", "500ms", 10) in seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", str(value)):
        total += float(number) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}[unit]
    return total


def depends(service: dict) -> dict[str, str]:
    """depends_on as {service: condition} (the list form means service_started)."""
    found = service.get("depends_on") or {}
    if isinstance(found, list):
        return {name: "service_started" for name in found}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in found.items()}


def start_order(services: dict) -> list[str]:
    order, seen = [], set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for dependency in sorted(depends(services[name])):
            visit(dependency)
        order.append(name)

    for name in sorted(services):
        visit(name)
    return order


class Section:
    """One part of the report (the build, or one topology): its timed steps, checks and figures, printed as they come."""

    def __init__(self, start: float, name: str = "") -> None:
        self.start, self.name = start, name
        self.steps: dict[str, float] = {}
        self.checks: dict[str, bool] = {}
        self.figures: dict[str, object] = {}

    def step(self, name: str, began: float, detail: str = "") -> float:
        took = time.monotonic() - began
        self.steps[name] = round(took, 1)
        label = f"{self.name}: {name}" if self.name else name
        print(f"[{time.monotonic() - self.start:6.1f} s] {label}: {took:.1f} s{'  ' + detail if detail else ''}", flush=True)
        return took

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks[name] = bool(ok)
        print(f"  {'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)

    def report(self) -> dict:
        return {**self.figures, "steps": self.steps, "checks": self.checks}


# ---------------------------------------------------------------- the topology

class Topology:
    """The compose files `files`, resolved by compose, run with the engine's commands (`replicas`: scaled services)."""

    def __init__(self, engine: str, project: str, image: str, mentions_port: int, workdir: Path, files: tuple[str, ...]) -> None:
        self.engine, self.project, self.image, self.mentions_port, self.workdir = engine, project, image, mentions_port, workdir
        self.files = files
        self.replicas: dict[str, int] = {}
        self.network = f"{project}_default"
        self.label = f"leaderwatch.container-test={project}"
        self.config = self.resolve()
        self.services = self.config["services"]

    # -- compose config
    def resolve(self) -> dict:
        import yaml

        (self.workdir / "empty.env").touch()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADERWATCH_", "COMPOSE_", "DOCKER_"))}
        env.update(LEADERWATCH_IMAGE=self.image, LEADERWATCH_MENTIONS_PORT=str(self.mentions_port), COMPOSE_PROJECT_NAME=self.project)
        argv = [*compose_command(), "--project-directory", ROOT, "--env-file", self.workdir / "empty.env"]
        for name in self.files:
            argv += ["-f", ROOT / name]
        return yaml.safe_load(_run([*argv, "config"], env=env, check=True).stdout)

    def container(self, service: str, index: int = 1) -> str:
        return f"{self.project}_{service}_{index}"

    def containers(self, service: str) -> list[str]:
        return [self.container(service, i) for i in range(1, self.replicas.get(service, 1) + 1)]

    def uses_app_image(self, service: str) -> bool:
        """True for the services that run the leaderwatch image (not Apache Kafka's)."""
        return self.services[service]["image"] == self.image

    def volume_arg(self, spec: str) -> str:
        source, _, rest = spec.partition(":")
        if "/" not in source and not source.startswith("."):  # a named volume of the project
            source = f"{self.project}_{source}"
        return f"{source}:{rest}"

    def ports(self, service: dict) -> list[str]:
        out = []
        for port in service.get("ports") or []:
            if isinstance(port, dict):
                out.append(f"{port['published']}:{port['target']}")
            else:
                out.append(str(port))
        return out

    def environment(self, service: str) -> dict[str, str]:
        env = self.services[service].get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) for item in env)
        return {k: "" if v is None else str(v) for k, v in env.items()}

    def run_args(self, service: str, name: str | None = None, detach: bool = True) -> list[str]:
        spec = self.services[service]
        argv = [self.engine, "run", "--pull", "never", "--label", self.label, "--network", self.network]
        argv += ["-d", "--name", name or self.container(service), "--network-alias", service] if detach else ["--rm"]
        if spec.get("hostname"):
            argv += ["--hostname", spec["hostname"]]
        for key, value in self.environment(service).items():
            argv += ["-e", f"{key}={value}"]
        if detach:
            for volume in spec.get("volumes") or []:
                argv += ["-v", self.volume_arg(volume if isinstance(volume, str) else f"{volume['source']}:{volume['target']}")]
            for port in self.ports(spec):
                argv += ["-p", port]
            if spec.get("restart"):
                argv += ["--restart", spec["restart"]]
            argv += ["--stop-timeout", str(int(seconds(spec.get("stop_grace_period", "10s"))))]
        entrypoint = spec.get("entrypoint")
        if entrypoint:
            entrypoint = shlex.split(entrypoint) if isinstance(entrypoint, str) else list(entrypoint)
            argv += ["--entrypoint", entrypoint[0]]
        argv.append(spec["image"])
        if entrypoint:
            argv += entrypoint[1:]
        command = spec.get("command")
        if command and detach:
            argv += shlex.split(command) if isinstance(command, str) else list(command)
        return argv

    # -- lifecycle
    def create_shared(self) -> None:
        _run([self.engine, "network", "create", "--label", self.label, self.network], check=True)
        for volume in self.config.get("volumes") or {}:
            _run([self.engine, "volume", "create", "--label", self.label, f"{self.project}_{volume}"], check=True)

    def up(self) -> None:
        for service in start_order(self.services):
            for dependency, condition in depends(self.services[service]).items():
                if condition == "service_healthy":
                    self.wait_healthy(dependency, timeout=120)
                elif condition == "service_completed_successfully":
                    code = _run([self.engine, "wait", self.container(dependency)], timeout=120).stdout.strip()
                    if code != "0":
                        raise RuntimeError(f"{dependency} exited {code}: {self.logs(dependency)}")
            _run(self.run_args(service), check=True)

    def scale(self, service: str, count: int) -> None:
        """`compose up --scale SERVICE=COUNT`: more containers of the service, <project>_<service>_<n>."""
        for index in range(self.replicas.get(service, 1) + 1, count + 1):
            _run(self.run_args(service, name=self.container(service, index)), check=True)
        self.replicas[service] = max(count, self.replicas.get(service, 1))

    def ip(self, service: str, index: int = 1) -> str:
        done = _run([self.engine, "inspect", "--format", "{{json .NetworkSettings.Networks}}", self.container(service, index)], check=True)
        return (json.loads(done.stdout or "{}").get(self.network) or {}).get("IPAddress", "")

    def healthcheck(self, service: str) -> list[str]:
        """The service's healthcheck test (compose), else the image's HEALTHCHECK, as an exec argv."""
        test = (self.services[service].get("healthcheck") or {}).get("test")
        if not test:
            found = _run([self.engine, "image", "inspect", "--format", "{{json .Config.Healthcheck}}", self.image], check=True)
            test = (json.loads(found.stdout or "null") or {}).get("Test")
        if not test or test[0] == "NONE":
            return []
        if test[0] == "CMD-SHELL":
            return ["sh", "-c", test[1]]
        return list(test[1:]) if test[0] == "CMD" else list(test)

    def wait_healthy(self, service: str, timeout: float) -> None:
        check = self.healthcheck(service)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not check or self.exec(service, check, timeout=15).returncode == 0:
                return
            time.sleep(0.5)
        raise RuntimeError(f"{service} not healthy within {timeout} s: {self.logs(service)}")

    def exec(self, service: str, argv: list[str], timeout: float = 30, index: int = 1) -> subprocess.CompletedProcess:
        return _run([self.engine, "exec", self.container(service, index), *argv], timeout=timeout)

    def get(self, service: str, path: str, timeout: float = 10, index: int = 1) -> tuple[int, object]:
        """GET http://127.0.0.1:6066<path> inside the service's container: (status, JSON body or None)."""
        code = ("import json, sys, urllib.request, urllib.error\n"
                "try:\n    r = urllib.request.urlopen('http://127.0.0.1:6066' + sys.argv[1], timeout=5); s, b = r.status, r.read()\n"
                "except urllib.error.HTTPError as e:\n    s, b = e.code, e.read()\n"
                "except OSError as e:\n    s, b = 0, b'null'\n"
                "print(s); print(b.decode())")
        done = self.exec(service, ["python", "-c", code, path], timeout=timeout, index=index)
        if done.returncode != 0:
            return 0, None
        status, _, body = done.stdout.partition("\n")
        try:
            return int(status), json.loads(body)
        except ValueError:
            return int(status or 0), None

    def cli(self, service: str, *args: str, extra: list[str] = (), timeout: float = 120) -> subprocess.CompletedProcess:
        """`compose run --rm --no-deps SERVICE ARGS...`: the image's CLI with the service's environment."""
        argv = self.run_args(service, detach=False)
        image = argv.index(self.services[service]["image"])
        return _run([*argv[:image], *extra, *argv[image:], *args], timeout=timeout)

    def logs(self, service: str, tail: int = 40, index: int = 1) -> str:
        done = _run([self.engine, "logs", "--tail", str(tail), self.container(service, index)])
        return (done.stdout + done.stderr)[-4000:]

    def state(self, service: str, index: int = 1) -> dict:
        done = _run([self.engine, "inspect", "--format", "{{json .State}}", self.container(service, index)], check=True)
        return json.loads(done.stdout)

    def down(self) -> None:
        """Remove the containers, volumes and network of this project (not the images)."""
        listed = _run([self.engine, "ps", "-aq", "--filter", f"label={self.label}"]).stdout.split()
        if listed:
            _run([self.engine, "rm", "-f", "-v", "-t", "0", *listed], timeout=120)  # -v: anonymous volumes too (the Kafka image declares one)
        volumes = _run([self.engine, "volume", "ls", "-q", "--filter", f"label={self.label}"]).stdout.split()
        if volumes:
            _run([self.engine, "volume", "rm", "-f", *volumes])
        _run([self.engine, "network", "rm", "-f", self.network])


# ---------------------------------------------------------------- the checks

def processes_uids(topology: Topology, service: str, index: int = 1) -> dict[str, list[int]]:
    """{pid command: [real, effective, saved, fs uid]} of every process in the container."""
    code = ("import os\nfor p in os.listdir('/proc'):\n  if p.isdigit():\n    try:\n"
            "      s = open(f'/proc/{p}/status').read(); c = open(f'/proc/{p}/cmdline', 'rb').read().replace(b'\\0', b' ').replace(b'\\n', b' ')\n"
            "    except OSError:\n      continue\n"
            "    u = [l.split()[1:] for l in s.splitlines() if l.startswith('Uid:')][0]\n"
            "    print(p, ','.join(u), c.decode(errors='replace')[:80])")
    done = topology.exec(service, ["python", "-c", code], index=index)
    out = {}
    for line in done.stdout.splitlines():
        pid, uids, *command = line.split(" ", 2)
        out[f"{pid} {' '.join(command)}".strip()] = [int(u) for u in uids.split(",")]
    return out


def totals(body) -> dict[str, tuple[int, int]]:
    """/mentions/ -> {qid: (documents, mentions)}."""
    return {leader["qid"]: (leader["docs"], leader["mentions"]) for leader in (body or {}).get("leaders", [])}


def host_get(port: int, path: str):
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return json.loads(response.read())


def poll(what, timeout: float, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = what()
        except Exception as exc:  # noqa: BLE001 - report the last error if it never succeeds
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    return None if not isinstance(last, Exception) else None


def build_app_image(engine: str, image: str, workdir: Path, section: Section) -> None:
    """Build the leaderwatch image from ./Dockerfile (never pulling with podman) and check what it keeps."""
    began = time.monotonic()
    build = [engine, "build", "-t", image, ROOT]
    if Path(engine).name == "podman":  # no registry: the base image is local; the docker format keeps the HEALTHCHECK
        build[2:2] = ["--pull=never", "--format", "docker"]
    done = _run(build, timeout=900)
    (workdir / "build.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        print((done.stdout + done.stderr)[-4000:])
        raise RuntimeError("the image does not build")
    size = int(_run([engine, "image", "inspect", "--format", "{{.Size}}", image], check=True).stdout.strip())
    section.figures.update(build_seconds=round(section.step("build", began, f"{image}, {size / 1e6:.0f} MB"), 1), image_mb=round(size / 1e6))
    warnings = [line for line in (done.stdout + done.stderr).splitlines() if re.search(r"\bwarn", line, re.I)]
    section.check("build without warnings", not warnings, "; ".join(warnings)[:300])
    healthcheck = json.loads(_run([engine, "image", "inspect", "--format", "{{json .Config.Healthcheck}}", image]).stdout or "null")
    section.check("the image keeps its HEALTHCHECK", bool(healthcheck and "/health/" in " ".join(healthcheck.get("Test", []))))


def kafka_image(engine: str, workdir: Path, section: Section) -> None:
    """docker-compose.yml's Apache Kafka image: the engine's own copy if it has one (pulled), else the stand-in."""
    from tools import kafka_image as stand_in

    began = time.monotonic()
    name = stand_in.compose_image()
    if _run([engine, "image", "inspect", name]).returncode == 0 and stand_in.image_label(engine, name) is None:
        section.figures["kafka_image"] = {"image": name, "stand_in": False}
        section.step("kafka image", began, f"{name}, the engine's own")
        return
    found = stand_in.build_image(engine, log=workdir / "kafka-build.log")
    section.figures["kafka_image"] = {**found, "stand_in": True}
    section.step("kafka image", began, f"{name} stand-in, {found['mb']} MB, {'cached (same inputs)' if found['cached'] else 'built'}")


def image_commands(engine: str, image: str, label: str, section: Section) -> None:
    """`--help` lists every command; `demo` runs on a read-only root file system (only /tmp writable)."""
    began = time.monotonic()
    done = _run([engine, "run", "--rm", "--label", label, "--network", "none", image, "--help"], timeout=120)
    commands = {"worker", "broker", "ingest", "backfill", "mentions", "alerts", "demo", "replay"}
    listed = {line.split()[0] for line in done.stdout.splitlines() if line.startswith("  ") and line.split()}
    section.check("`leaderwatch --help` lists every command", commands <= listed, ", ".join(sorted(commands - listed)) or "")
    done = _run([engine, "run", "--rm", "--label", label, "--network", "none", "--read-only", "--tmpfs", "/tmp",
                 image, "demo"], timeout=240)
    section.step("demo", began, "`leaderwatch demo` on a read-only root file system")
    section.check("`leaderwatch demo` runs in the image (read-only, HOME not writable)",
                  done.returncode == 0 and "Sanae Takaichi" in done.stdout and "alerts)" in done.stdout,
                  (done.stdout.strip().splitlines() or [""])[-1] if done.returncode == 0 else (done.stdout + done.stderr)[-600:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default=None, help="podman or docker (default: CONTAINER_ENGINE, else the first that runs)")
    parser.add_argument("--project", default=None, help="name prefix of the containers, network and volumes (default: unique)")
    parser.add_argument("--topology", action="append", choices=list(TOPOLOGIES), help="run only this one (repeatable; default: both)")
    parser.add_argument("--keep", action="store_true", help="leave the containers, volumes and image for a look afterwards")
    parser.add_argument("--skip-ok", action="store_true", help="exit 0 (after printing why) where no engine can run")
    args = parser.parse_args(argv)

    engine, problem = engine_problem(args.engine)
    if engine is None:
        print(f"container test skipped: {problem}", flush=True)
        return 0 if args.skip_ok else 77
    from tools.container_checks import run_topology

    project = args.project or f"lwct{uuid.uuid4().hex[:8]}"
    image = f"localhost/leaderwatch:test-{project}"
    label = f"leaderwatch.container-test={project}"
    start = time.monotonic()
    main_section = Section(start)
    sections: dict[str, Section] = {}
    figures: dict[str, object] = {"engine": _run([engine, "--version"]).stdout.strip(), "project": project}
    workdir = Path(tempfile.mkdtemp(prefix=f"{project}-"))
    kept = []
    try:
        build_app_image(engine, image, workdir, main_section)
        names = args.topology or list(TOPOLOGIES)
        if "apache-kafka" in names:
            kafka_image(engine, workdir, main_section)
        for name in names:
            section = sections[name] = Section(start, name)
            section.figures["files"] = list(TOPOLOGIES[name])
            topology = Topology(engine, f"{project}-{name}", image, free_port(), workdir, TOPOLOGIES[name])
            try:
                run_topology(topology, section, apache=name == "apache-kafka")
            except Exception as exc:  # noqa: BLE001 - report, clean up, go on with the next topology
                import traceback

                traceback.print_exc()
                print(f"error ({name}): {exc}", flush=True)
                section.checks["completed"] = False
            finally:
                if args.keep:
                    kept.append(topology.label)
                else:
                    topology.down()
        image_commands(engine, image, label, main_section)
    except Exception as exc:  # noqa: BLE001 - report, clean up, fail
        import traceback

        traceback.print_exc()
        print(f"error: {exc}", flush=True)
        main_section.checks["completed"] = False
    finally:
        if args.keep:
            print(f"kept: containers/volumes labelled {', '.join(kept) or label}, image {image}")
        else:
            _run([engine, "rmi", image])
        shutil.rmtree(workdir, ignore_errors=True)

    checks = dict(main_section.checks)
    for name, section in sections.items():
        checks.update({f"{name}: {check}": ok for check, ok in section.checks.items()})
    figures.update(main_section.figures, total_seconds=round(time.monotonic() - start, 1), steps=main_section.steps,
                   topologies={name: section.report() for name, section in sections.items()}, checks=checks)
    ok = bool(checks) and all(checks.values()) and len(sections) == len(args.topology or TOPOLOGIES)
    print(f"container test {'passed' if ok else 'FAILED'}: {sum(checks.values())}/{len(checks)} checks "
          f"({', '.join(sections)}) in {figures['total_seconds']} s")
    print(json.dumps(figures))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
