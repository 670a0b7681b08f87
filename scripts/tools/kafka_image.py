"""The local stand-in for docker-compose.yml's Apache Kafka image, built where no registry can be reached.

docker-compose.yml names `apache/kafka:<version>`; here nothing can pull it, so this builds an image
of that exact name from scripts/kafka-broker/image/ (Dockerfile, the `run` entrypoint, tool wrappers)
and Apache Kafka's Maven jars: the broker's (kafka_cluster.install(), cached in
~/.cache/leaderwatch/kafka-<version>/lib) and kafka-tools (kafka-topics.sh, kafka-consumer-groups.sh,
kafka-broker-api-versions.sh), on the Dockerfile's base image with Debian's Java 17 runtime.

  build_image(engine)   the image, built unless one of that name was built from the same inputs
                        (a digest of the build context, kept as the image's label)
  ./scripts/kafka-image [--engine podman|docker] [--force]   the same from the shell

The compose tag must be the version the stand-in is (LEADERWATCH_KAFKA_VERSION, 4.1.2), so users
pulling the real image get the Kafka the container test ran.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools import kafka_cluster

ROOT = Path(__file__).resolve().parents[2]
IMAGE_DIR = ROOT / "scripts" / "kafka-broker" / "image"
BROKER_LOG4J = ROOT / "scripts" / "kafka-broker" / "log4j2.properties"
COPY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy"
LABEL = "leaderwatch.stand-in-inputs"


def compose_image() -> str:
    """The Kafka image docker-compose.yml names, as the engine stores it (docker.io/apache/kafka:4.1.2)."""
    import yaml

    name = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["kafka"]["image"]
    return name if "." in name.split("/")[0] else "docker.io/" + name


def tools_jar() -> Path:
    """kafka-tools-<version>.jar (the command-line tools), fetched by Maven once next to the broker's jars.

    Only that jar: its other runtime dependencies are the broker's, but connect-runtime, which only
    the Connect tools need (Jetty, Jersey: ~20 MB)."""
    folder = kafka_cluster.cache_dir() / "tools"
    jar = folder / f"kafka-tools-{kafka_cluster.KAFKA_VERSION}.jar"
    if jar.is_file():
        return jar
    folder.mkdir(parents=True, exist_ok=True)
    command = ["mvn", "-B", "-q", "-f", str(ROOT / "scripts" / "kafka-broker" / "pom.xml"), COPY_PLUGIN,
               f"-Dartifact=org.apache.kafka:kafka-tools:{kafka_cluster.KAFKA_VERSION}", f"-DoutputDirectory={folder}"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0 or not jar.is_file():
        raise RuntimeError(f"kafka image: Maven could not fetch kafka-tools (exit {done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
    return jar


def make_context(folder: Path) -> str:
    """Fill `folder` with the build context (image files, broker log config, libs/); its digest."""
    shutil.copytree(IMAGE_DIR, folder, dirs_exist_ok=True)
    shutil.copy2(BROKER_LOG4J, folder / "config" / "log4j2.properties")
    libs = folder / "libs"
    libs.mkdir()
    for jar in [*sorted(kafka_cluster.install().glob("*.jar")), tools_jar()]:
        shutil.copy2(jar, libs / jar.name)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
        digest.update(oct(path.stat().st_mode & 0o111).encode())
    return digest.hexdigest()[:16]


def image_label(engine: str, image: str) -> str | None:
    done = subprocess.run([engine, "image", "inspect", "--format", "{{json .Config.Labels}}", image],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return None
    return (json.loads(done.stdout or "null") or {}).get(LABEL)


def build_image(engine: str, force: bool = False, log: Path | None = None) -> dict:
    """Build the stand-in unless the image already has this context's digest: {image, version, cached, seconds, mb}."""
    image = compose_image()
    version = image.rsplit(":", 1)[1]
    if version != kafka_cluster.KAFKA_VERSION:
        raise RuntimeError(f"docker-compose.yml runs {image}, but the stand-in is Apache Kafka {kafka_cluster.KAFKA_VERSION} "
                           f"(scripts/kafka-broker/pom.xml, LEADERWATCH_KAFKA_VERSION): make the tag {kafka_cluster.KAFKA_VERSION}")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kafka-image-") as tmp:
        context = Path(tmp) / "context"
        digest = make_context(context)
        cached = not force and image_label(engine, image) == digest
        if not cached:
            argv = [engine, "build", "--label", f"{LABEL}={digest}", "-t", image, str(context)]
            if Path(engine).name == "podman":  # the base image is local: never pull; docker format as the official image
                argv[2:2] = ["--pull=never", "--format", "docker"]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
            if log:
                log.write_text(done.stdout + done.stderr)
            if done.returncode != 0:
                raise RuntimeError(f"kafka image: {image} does not build:\n{(done.stdout + done.stderr)[-4000:]}")
    size = subprocess.run([engine, "image", "inspect", "--format", "{{.Size}}", image], capture_output=True, text=True, check=True)
    return {"image": image, "version": version, "cached": cached, "seconds": round(time.monotonic() - began, 1),
            "mb": round(int(size.stdout.strip()) / 1e6)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./scripts/kafka-image", description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default=shutil.which("podman") or shutil.which("docker") or "podman")
    parser.add_argument("--force", action="store_true", help="build even when the image has this context's digest")
    args = parser.parse_args(argv)
    print(json.dumps(build_image(args.engine, args.force)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
