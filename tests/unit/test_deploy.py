"""The deployment files agree with the code: Dockerfile, docker-compose.yml, .env.example, docs/deploy.md."""
from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from leaderwatch.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
COMPOSE_EMBEDDED = ROOT / "docker-compose.embedded.yml"  # the override: the image's own broker instead of Apache Kafka
ENV_EXAMPLE = ROOT / ".env.example"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
CREATE_TOPICS = ROOT / "scripts" / "create-topics"
STAGE_SERVICES = ("clean", "extract", "mentions", "alert")
# read by docker-compose.yml only, never by the application
COMPOSE_ONLY = {"LEADERWATCH_MENTIONS_PORT", "LEADERWATCH_IMAGE"}
# the one stage service that publishes a host port (its web views); the others only `expose`
PUBLISHED = {"mentions": "${LEADERWATCH_MENTIONS_PORT:-6066}:6066"}
NAME = re.compile(r"\bLEADERWATCH_[A-Z][A-Z0-9_]*")


def names_in(path: Path) -> set[str]:
    return set(NAME.findall(path.read_text(encoding="utf-8")))


# ---------------------------------------------------------------- compose

@pytest.fixture(scope="module")
def compose() -> dict:
    """docker-compose.yml parsed (anchors and merge keys resolved): PyYAML here, else the system python3's."""
    text = COMPOSE.read_text(encoding="utf-8")
    try:
        import yaml
    except ImportError:
        pass
    else:
        return yaml.safe_load(text)
    for python in dict.fromkeys(p for p in ("/usr/bin/python3", shutil.which("python3")) if p):
        done = subprocess.run([python, "-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"],
                              input=text, capture_output=True, text=True, timeout=30)
        if done.returncode == 0:
            return json.loads(done.stdout)
    pytest.skip("no YAML parser: install PyYAML, or `apt-get install docker-compose` (brings python3-yaml)")


def compose_config(tmp_path, *files: Path, quiet: bool = False) -> subprocess.CompletedProcess:
    """`docker-compose -f FILE... config [-q]` with only the files' own defaults: no .env from the
    developer's checkout, no LEADERWATCH_* or COMPOSE_* from the shell. Skips without docker-compose."""
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.skip("docker-compose is not installed (Debian: apt-get install docker-compose)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADERWATCH_", "COMPOSE_"))}
    (tmp_path / "none.env").touch()
    arguments = [arg for file in files for arg in ("-f", str(file))] + ["config"] + ["-q"] * quiet
    done = subprocess.run([exe, "--project-directory", str(ROOT), "--env-file", str(tmp_path / "none.env"), *arguments],
                          capture_output=True, text=True, env=env, timeout=60)
    if "--env-file" in done.stderr and done.returncode:  # older clients without --env-file
        done = subprocess.run([exe, *arguments], capture_output=True, text=True, env=env, timeout=60)
    return done


def test_docker_compose_config_accepts_the_file(tmp_path):
    done = compose_config(tmp_path, COMPOSE, quiet=True)
    assert done.returncode == 0, done.stderr
    # every ${VAR} has a default, so nothing is "not set" even without a .env
    assert "not set" not in done.stderr and "WARNING" not in done.stderr, done.stderr


def test_docker_compose_config_merges_the_embedded_broker_override(tmp_path):
    """docker-compose.yml + docker-compose.embedded.yml: the broker and the topic step from the leaderwatch
    image, advertised as kafka:9092; every stage told its broker is the embedded one (one record per producer batch, no idempotence)."""
    done = compose_config(tmp_path, COMPOSE, COMPOSE_EMBEDDED)
    import yaml

    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    assert set(services) == {"kafka", "topics", *STAGE_SERVICES}
    kafka = services["kafka"]
    assert kafka["image"] == "leaderwatch:dev" and kafka["command"][0] == "broker"
    command = kafka["command"]
    assert command[command.index("--host") + 1] == "0.0.0.0" and command[command.index("--port") + 1] == "9092"
    assert command[command.index("--advertised-host") + 1] == "kafka"
    assert "9092" in " ".join(kafka["healthcheck"]["test"]) and kafka["healthcheck"]["test"][:2] == ["CMD", "python"]
    assert services["topics"]["image"] == "leaderwatch:dev" and services["topics"]["entrypoint"][0] == "python"
    for stage in STAGE_SERVICES:
        env = services[stage]["environment"]
        assert env["LEADERWATCH_BROKER_KIND"] == "embedded", stage
        assert env["LEADERWATCH_CONSUMER_FETCH_MAX_WAIT_MS"] == "20", stage
        assert env["LEADERWATCH_BROKER"] == "kafka://kafka:9092" and env["LEADERWATCH_STAGES"] == stage
        assert services[stage]["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    assert services["mentions"]["volumes"][0].startswith("mentions-data:/app/var")


def test_the_embedded_override_names_only_known_variables():
    assert sorted(names_in(COMPOSE_EMBEDDED) - set(Settings.env_names()) - COMPOSE_ONLY) == []


def test_kafka_is_a_pinned_apache_kafka_in_kraft_mode(compose):
    kafka = compose["services"]["kafka"]
    image, _, tag = kafka["image"].partition(":")
    assert image == "apache/kafka" and re.fullmatch(r"\d+\.\d+\.\d+", tag), kafka["image"]
    env = {k: str(v) for k, v in kafka["environment"].items()}
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_NODE_ID"] and env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(env["KAFKA_NODE_ID"] + "@")
    assert env["KAFKA_LISTENERS"] == "PLAINTEXT://:9092,CONTROLLER://:9093"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    for name in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
                 "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"):
        assert env[name] == "1", name
    # a named volume (declared at the top level), not a bind mount, holds the log dirs
    volume, _, target = kafka["volumes"][0].partition(":")
    assert target.split(":")[0] == env["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
    assert volume in (compose.get("volumes") or {}), volume
    assert "kafka-broker-api-versions.sh" in " ".join(kafka["healthcheck"]["test"])


def test_the_kafka_tag_is_the_version_the_container_test_runs(compose):
    """The stand-in image (scripts/kafka-broker/image) is Apache Kafka from Maven at kafka_cluster's version:
    users pulling the real image get the Kafka the container test ran."""
    from tools import kafka_cluster

    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{kafka_cluster.KAFKA_VERSION}"
    assert re.search(rf"<kafka.version>{re.escape(kafka_cluster.KAFKA_VERSION)}</kafka.version>",
                     (ROOT / "scripts" / "kafka-broker" / "pom.xml").read_text())


def test_the_container_test_expects_what_create_topics_creates():
    from tools.container_checks import expected_topics

    found = expected_topics({"LEADERWATCH_PARTITIONS": "6", "LEADERWATCH_PARTITIONS_RAW": "12", "LEADERWATCH_TOPIC_ALERTS": "my-alerts"})
    assert found["pages.raw"] == (12, {"retention.ms": "2592000000", "max.message.bytes": "4194304"})
    assert found["pages.clean"][0] == 6 and found["my-alerts"] == (6, {"retention.ms": "31536000000"})
    assert found["leaderwatch.leaders"] == (1, {"cleanup.policy": "compact"})
    assert found["leaderwatch.mention-updates"] == (6, {}) and len(found) == 7


def test_topics_service_runs_once_after_kafka_is_healthy(compose):
    topics = compose["services"]["topics"]
    assert topics["image"] == compose["services"]["kafka"]["image"]
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert topics.get("restart") == "no"
    assert topics["environment"]["LEADERWATCH_PARTITIONS"] == "${LEADERWATCH_PARTITIONS:-6}"


@pytest.mark.parametrize("stage", STAGE_SERVICES)
def test_each_stage_service_runs_its_own_stage_in_its_own_group(compose, stage):
    service = compose["services"][stage]
    env = service["environment"]
    assert env["LEADERWATCH_STAGES"] == stage
    assert env["LEADERWATCH_APP_ID"].endswith(f"-{stage}")
    assert env["LEADERWATCH_BROKER"] == "${LEADERWATCH_BROKER:-kafka://kafka:9092}"
    assert env["LEADERWATCH_WEB_HOST"] == "0.0.0.0"
    assert env["LEADERWATCH_PARTITIONS"] == compose["services"]["topics"]["environment"]["LEADERWATCH_PARTITIONS"]
    for name in ("LEADERWATCH_BROKER_SECURITY_PROTOCOL", "LEADERWATCH_BROKER_SASL_MECHANISM", "LEADERWATCH_BROKER_SASL_USERNAME",
                 "LEADERWATCH_BROKER_SASL_PASSWORD", "LEADERWATCH_BROKER_CA_FILE"):
        assert env[name].startswith("${" + name + ":-"), name  # passed through, never a literal secret
    assert service["build"] == "." and service["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    assert [str(p) for p in service.get("ports", [])] == ([PUBLISHED[stage]] if stage in PUBLISHED else [])
    assert "6066" in [str(p) for p in service["expose"]]


@pytest.mark.parametrize("stage", STAGE_SERVICES)
def test_table_stages_keep_rocksdb_on_a_named_volume(compose, stage):
    service = compose["services"][stage]
    has_tables = stage in ("mentions", "alert")
    assert service["environment"].get("LEADERWATCH_STORE", "memory://") == ("rocksdb://" if has_tables else "memory://")
    volumes = [v.split(":") for v in service.get("volumes", [])]
    if has_tables:
        assert [v[1] for v in volumes] == ["/app/var"]
        assert volumes[0][0] in compose["volumes"]


def test_no_variable_is_unknown_to_settings():
    known = set(Settings.env_names()) | COMPOSE_ONLY
    files = [COMPOSE, ENV_EXAMPLE, DEPLOY_DOC, CREATE_TOPICS, DOCKERFILE, ROOT / "docs" / "performance.md"] + [ROOT / "README.md"] * (ROOT / "README.md").exists()
    unknown = {str(path.relative_to(ROOT)): sorted(names_in(path) - known) for path in files}
    assert not any(unknown.values()), unknown


def test_env_example_sets_every_variable_compose_reads():
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    assigned = dict(re.findall(r"^(LEADERWATCH_[A-Z0-9_]+)=(.*)$", text, re.M))
    interpolated = set(re.findall(r"\$\{(LEADERWATCH_[A-Z0-9_]+)", COMPOSE.read_text(encoding="utf-8")))
    assert sorted(interpolated - set(assigned)) == []
    assert sorted(names_in(COMPOSE) - names_in(ENV_EXAMPLE)) == []  # the fixed ones at least mentioned
    for name in ("LEADERWATCH_BROKER_SASL_USERNAME", "LEADERWATCH_BROKER_SASL_PASSWORD"):
        assert assigned[name] == "", f"{name} must stay empty in .env.example"
    # every assignment has a comment (its own, or one heading its group of lines)
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("LEADERWATCH_"):
            above = next(l for l in reversed(lines[:i]) if not l.startswith("LEADERWATCH_"))
            assert above.startswith("#"), line


# ---------------------------------------------------------------- docs/deploy.md

def _table_defaults() -> dict[str, str]:
    """docs/deploy.md's environment table: name -> default cell."""
    rows = re.findall(r"^\| `(LEADERWATCH_[A-Z0-9_]+)` \| ([^|]*) \|", DEPLOY_DOC.read_text(encoding="utf-8"), re.M)
    names = [name for name, _ in rows]
    assert len(names) == len(set(names)), "a variable appears twice in the table"
    return {name: cell.strip() for name, cell in rows}


def _shown(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def test_deploy_doc_table_lists_every_setting_with_its_default():
    table = _table_defaults()
    fields = {Settings.env_names()[i]: f for i, f in enumerate(dataclasses.fields(Settings))}
    assert sorted(set(fields) - set(table)) == [], "missing from the docs/deploy.md table"
    assert sorted(set(table) - set(fields)) == [], "in the table but not in Settings"
    for name, f in fields.items():
        cell = table[name]
        if name == "LEADERWATCH_SCHEMAS_DIR":  # an absolute path of the checkout
            assert "schemas/" in cell
            continue
        shown = _shown(f.default)
        assert cell == (f"`{shown}`" if shown else "(empty)"), f"{name}: table says {cell}, Settings says {shown!r}"


# ---------------------------------------------------------------- Dockerfile

def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out, pending = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        word, _, args = pending.strip().partition(" ")
        out.append((word.upper(), args.strip()))
        pending = ""
    return out


def stages() -> list[list[tuple[str, str]]]:
    found = []
    for word, args in dockerfile_instructions():
        if word == "FROM":
            found.append([])
        if found:
            found[-1].append((word, args))
    return found


def test_dockerfile_from_lines_are_pinned():
    aliases = set()
    for stage in stages():
        image, *rest = stage[0][1].split()
        if image not in aliases:
            name, _, tag = image.partition(":")
            assert tag and tag != "latest" and re.search(r"\d+\.\d+\.\d+", tag), f"unpinned base image {image}"
        if len(rest) == 2 and rest[0].upper() == "AS":
            aliases.add(rest[1])
    final = stages()[-1][0][1]
    assert final.split()[0].startswith("python:3.11.") and "slim-bookworm" in final
    assert len(stages()) >= 2, "multi-stage: build stage + slim run stage"


def test_dockerfile_final_stage_runs_leaderwatch_as_non_root():
    final = stages()[-1]
    words = [w for w, _ in final]
    args = {w: a for w, a in final}  # the last one wins, as in Docker
    assert "USER" in words and words.index("USER") < words.index("ENTRYPOINT")
    user = args["USER"].split(":")[0]
    assert user not in ("root", "0") and (not user.isdigit() or int(user) >= 1000), user
    assert json.loads(args["ENTRYPOINT"]) == ["leaderwatch"]
    assert json.loads(args["CMD"]) == ["worker", "-l", "info"]
    assert "6066" in args["EXPOSE"].split()
    assert args["WORKDIR"] == "/app"
    env = " ".join(a for w, a in final if w == "ENV")
    assert "LEADERWATCH_SCHEMAS_DIR=/app/schemas" in env and "LEADERWATCH_DATADIR=/app/var" in env
    assert any(w == "COPY" and a.split()[0] in ("schemas/", "schemas") for w, a in final)
    assert any(w == "COPY" and a.startswith("--from=") for w, a in final), "installs what the build stage built"
    for word, arg in final:
        if word == "RUN":
            assert not re.search(r"\b(build-essential|gcc|g\+\+|clang|make)\b", arg), f"compiler in final image: {arg}"


def test_dockerfile_healthcheck_asks_the_health_view():
    final = stages()[-1]
    check = next(a for w, a in final if w == "HEALTHCHECK")
    assert "/health/" in check and "urllib" in check and "curl" not in check
    argv = json.loads(check[check.index("CMD") + 3:].strip())
    assert argv[:2] == ["python", "-c"]
    compile(argv[2], "HEALTHCHECK", "exec")


def test_dockerignore_keeps_secrets_and_local_state_out():
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".env", ".git", ".venv", "var"} <= ignored
    assert not {"agents", "schemas", "pyproject.toml"} & ignored


# ---------------------------------------------------------------- scripts/create-topics

def test_create_topics_makes_every_topic_with_its_retention(tmp_path):
    calls = tmp_path / "calls"
    stub = tmp_path / "kafka-topics.sh"
    stub.write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\n')
    stub.chmod(0o755)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KAFKA_TOPICS": str(stub), "LEADERWATCH_PARTITIONS": "6",
           "LEADERWATCH_PARTITIONS_RAW": "12"}
    subprocess.run(["sh", str(CREATE_TOPICS)], env=env, check=True, capture_output=True, timeout=30)
    made, partitions = {}, {}
    for line in calls.read_text().splitlines():
        argv = line.split()
        assert "--create" in argv and "--if-not-exists" in argv
        configs = dict(argv[i + 1].split("=") for i, a in enumerate(argv) if a == "--config")
        made[argv[argv.index("--topic") + 1]] = configs
        partitions[argv[argv.index("--topic") + 1]] = argv[argv.index("--partitions") + 1]
    day = 24 * 3600 * 1000
    s = Settings()
    assert set(made) == {s.topic_raw, s.topic_clean, s.topic_entities, s.topic_mention_updates, s.topic_alerts, s.topic_dead,
                         s.topic_leaders}
    assert made[s.topic_leaders] == {"cleanup.policy": "compact"}  # leader updates are kept for good
    assert made[s.topic_raw] == made[s.topic_clean] == {"retention.ms": str(30 * day), "max.message.bytes": "4194304"}
    assert made[s.topic_entities] == {"retention.ms": str(90 * day)}
    assert made[s.topic_alerts] == {"retention.ms": str(365 * day)}
    assert made[s.topic_dead] == {"retention.ms": str(30 * day)}
    assert int(made[s.topic_raw]["max.message.bytes"]) >= s.max_page_bytes + 64 * 1024
    # pages.raw as LEADERWATCH_PARTITIONS_RAW says, pages.clean (unset) and the rest as LEADERWATCH_PARTITIONS
    assert partitions == {**{t: "6" for t in made}, s.topic_raw: "12", s.topic_leaders: "1"}


@pytest.mark.slow
def test_the_dockerfile_build_stage_copies_enough_to_build_the_package(tmp_path):
    """Copy exactly what the build stage COPYs, build the wheel from it, and check the data is inside."""
    import glob
    import sys
    import zipfile

    build_stage = re.split(r"^FROM ", DOCKERFILE.read_text(), flags=re.M)[1]  # the first stage
    for line in build_stage.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            *sources, _ = line.split()[1:]
            for pattern in sources:
                for found in glob.glob(str(ROOT / pattern.rstrip("*").rstrip("/"))):
                    target = tmp_path / Path(found).relative_to(ROOT)
                    (shutil.copytree if Path(found).is_dir() else shutil.copy)(found, target)
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path / "dist"),
                             str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    names = zipfile.ZipFile(next((tmp_path / "dist").glob("*.whl"))).namelist()
    for needed in ("leaderwatch/leaders/data/gazetteer.jsonl", "leaderwatch/rules/alerts.json",
                   "leaderwatch/schemas_files/pages.raw.v1.json", "leaderwatch/samples/NOTICE"):
        assert needed in names
    # the wheel installs one top-level package (and its metadata): nothing named `agents`
    assert {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")} == {"leaderwatch"}
