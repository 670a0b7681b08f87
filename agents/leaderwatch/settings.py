"""One settings object, read from the environment (prefix LEADERWATCH_) once, at start-up.

Stage code never reads os.environ: it gets this object (or the options derived from it).
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from leaderwatch.kafka.brokers import broker_traits

PREFIX = "LEADERWATCH_"
_PACKAGE_DIR = Path(__file__).resolve().parent
# the copy packaged as leaderwatch/schemas_files in a wheel; the repository's schemas/ in a checkout
SCHEMAS_DIR = (_PACKAGE_DIR / "schemas_files" if (_PACKAGE_DIR / "schemas_files").is_dir()
               else _PACKAGE_DIR.parents[1] / "schemas")
DEFAULT_WEB_PORT = 6066
ALL_STAGES = ("clean", "extract", "mentions", "alert")
CODECS = ("", "gzip", "lz4", "zstd", "snappy")  # Kafka batch codecs


@dataclass(frozen=True)
class Settings:
    """Everything configurable; field `foo_bar` is read from LEADERWATCH_FOO_BAR."""

    app_id: str = "leaderwatch"  # a worker running only some stages adds them: leaderwatch-mentions
    broker: str = "kafka://127.0.0.1:9092"
    # Kafka client security, passed through to aiokafka (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)
    broker_security_protocol: str = "PLAINTEXT"
    broker_sasl_mechanism: str = "PLAIN"  # PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
    broker_sasl_username: str = ""
    broker_sasl_password: str = field(default="", repr=False)
    broker_ca_file: str = ""
    # which broker this process talks to: "kafka" (Apache Kafka, what users run) or "embedded"
    # (tansu: ./scripts/run and the default tests); leaderwatch/kafka/brokers.py lists what differs
    broker_kind: str = "kafka"
    # consumer-group timing: ready in ~3 s on the embedded broker, sensible on Apache Kafka too
    broker_session_timeout: float = 10.0
    broker_heartbeat_interval: float = 1.0
    broker_request_timeout: float = 40.0
    producer_max_request_size: int = 4 * 1024 * 1024
    # how long the broker may hold an empty fetch; the embedded broker holds a fetch naming several
    # topics (a worker's always does) the whole time even when records arrive, so this bounds each
    # hop's latency there (leaderwatch/transport.py, ./scripts/bench-broker)
    # 0 = the broker kind's: 20 ms on the embedded broker, 500 on Apache Kafka (kafka/brokers.py)
    consumer_fetch_max_wait_ms: int = 0
    # bytes per producer batch; on the embedded broker always 1 (one record per batch), whatever
    # this says: it answers end_offsets with the last batch's base offset + 1, and Faust's table
    # recovery stops there (records later in a batch would be lost on restart)
    producer_max_batch_size: int = 16384
    # "at_least_once" (idempotent processing keyed by doc_id makes the results exactly-once) or
    # "exactly_once" (Faust's Kafka transactions; Apache Kafka only): docs/guarantees.md
    processing_guarantee: str = "at_least_once"
    # static group membership (Kafka's group.instance.id; on Apache Kafka only, the embedded broker
    # ignores it): each worker joins as <group>-<host>-<n>, the name of the data dir it claims
    # (leaderwatch.worker), so a worker restarted within the session timeout takes its partitions
    # back without waiting for the killed member's session to expire (./scripts/faults --kafka 1:
    # recovery 2.5 s against 9.2). A worker stopped for good holds its partitions until then.
    static_membership: bool = True
    # the Kafka codec of the batches leaderwatch writes (workers, ingest, replay): "" (none), gzip,
    # lz4, zstd or snappy. Consumers read every codec whatever this says (cramjam is a dependency)
    producer_compression: str = ""
    # events an agent's stream may hold unprocessed before Faust pauses fetching its partitions.
    # Faust's default 4096 let a worker with a backlog buffer up to 4096 pages of ~190 KB each:
    # scripts/bench, 4000 pages, rss_growth 26.4 MiB at 4096, 5.0 at 32, throughput the same
    stream_buffer_maxsize: int = 32

    web_host: str = "127.0.0.1"
    web_port: int = 0  # 0 (or unset, or empty): a worker takes the first free port from 6066 up
    datadir: str = "var/leaderwatch"
    store: str = "memory://"
    # RocksDB (store rocksdb://): one budget for the worker process, the block cache that every
    # table partition's database shares, memtables charged to it (leaderwatch/tablestore.py; Faust's
    # own: 64 MiB write buffers x 3 and a 2 GiB cache per table partition), and each database's
    # largest memtable (a flush comes earlier once the memtables of all reach half the budget)
    rocksdb_memory_bytes: int = 16 * 1024 * 1024
    rocksdb_write_buffer_bytes: int = 1024 * 1024
    log_level: str = "info"
    log_format: str = "text"  # text or json
    # Faust's own Prometheus monitor at /metrics too (faust_* series: per-topic messages, event
    # latency, commits): it labels every event, send and table access, ~0.5 ms a page (py-spy)
    faust_metrics: bool = False

    stages: tuple[str, ...] = ALL_STAGES  # LEADERWATCH_STAGES=clean,extract
    partitions: int = 2
    # the stateless stages' input topics may have more partitions than the tables (more clean or
    # extract replicas, the CPU-heavy stages); 0 = LEADERWATCH_PARTITIONS
    partitions_raw: int = 0
    partitions_clean: int = 0
    replicas: int = 1
    topic_raw: str = "pages.raw"
    topic_clean: str = "pages.clean"
    topic_entities: str = "pages.entities"
    topic_alerts: str = "alerts"
    topic_dead: str = "pages.dead"
    topic_mention_updates: str = "leaderwatch.mention-updates"
    topic_leaders: str = "leaderwatch.leaders"  # compacted: leader updates (`leaderwatch leaders update`)

    # processes that clean pages (trafilatura, the CPU-bound step) for this worker; 0 = the worker itself
    clean_processes: int = 0
    max_page_bytes: int = 2 * 1024 * 1024  # larger pages are dead-lettered, not parsed
    dead_letter_input_bytes: int = 64 * 1024  # how much of a bad input a dead letter keeps
    window_seconds: int = 3600  # tumbling event-time windows of the mentions table
    # the live view (every worker's copy) keeps each leader's newest windows: 168 = a week of hours
    live_windows_kept: int = 168
    # how often a worker hands the memory it has freed back to the system (glibc's malloc_trim):
    # pages of ~190 KB leave free holes the allocator keeps (scripts/bench, 20,000 pages: 233 MiB
    # resident, 139 MiB after one trim); between trims they pile up again (two cores, two clean
    # processes, 3,000 pages: peak 249.6 MiB proportional at 1 s, 285.5 at 10 s, the same pages/s;
    # a trim takes ~1.3 ms, and the pages it returns fault back in: a cleaning loop does ~1.5% more
    # CPU at 1 s than untrimmed); 0 = never
    malloc_trim_seconds: float = 1.0
    # move what the worker holds once started (modules, Faust, the gazetteer) out of the cyclic
    # garbage collector's reach (gc.freeze): each full collection then walks only what came later
    # (scripts/bench: 40 ms less event-loop stall per full collection)
    gc_freeze: bool = True

    schemas_dir: str = str(SCHEMAS_DIR)
    rules_file: str = ""  # alert rules (JSON); empty = the bundled leaderwatch/rules/alerts.json
    gazetteer_file: str = ""  # empty = the bundled leaderwatch/leaders/data/gazetteer.jsonl
    watch_list: tuple[str, ...] = ()  # Wikidata ids for `watch` alerts
    # the alert stage reads this many of the latest alerts per partition at start, so an alert the
    # broker has (a worker killed before recording it) is not sent again
    alert_dedupe_tail: int = 100_000
    alert_backfill_spikes: bool = False  # raise spike alerts for backfilled (old) pages?
    backfill_age_seconds: int = 7 * 24 * 3600  # pages older than this at arrival are backfill

    def __post_init__(self):
        unknown = [stage for stage in self.stages if stage not in ALL_STAGES]
        if unknown:
            raise ValueError(f"{PREFIX}STAGES: unknown stage {unknown[0]!r} (stages: {', '.join(ALL_STAGES)})")
        traits = broker_traits(self.broker_kind)  # raises on an unknown kind
        if self.processing_guarantee not in ("at_least_once", "exactly_once"):
            raise ValueError(f"{PREFIX}PROCESSING_GUARANTEE: {self.processing_guarantee!r} is not at_least_once or exactly_once")
        if self.processing_guarantee == "exactly_once" and not traits.idempotence:
            raise ValueError(f"{PREFIX}PROCESSING_GUARANTEE=exactly_once needs Kafka transactions, which the "
                             f"{self.broker_kind} broker does not have")
        if self.producer_compression not in CODECS:
            raise ValueError(f"{PREFIX}PRODUCER_COMPRESSION: {self.producer_compression!r} is not one of {', '.join(CODECS[1:])} "
                             "(or empty: none)")

    @property
    def broker_traits(self):
        """What the broker of LEADERWATCH_BROKER_KIND does right (leaderwatch.kafka.brokers.BrokerTraits)."""
        return broker_traits(self.broker_kind)

    @property
    def group_instance_id_wanted(self) -> bool:
        """Static membership asked for, and the broker has it."""
        return self.static_membership and self.broker_traits.static_membership

    @property
    def fetch_wait_ms(self) -> int:
        """consumer_fetch_max_wait_ms, or the broker kind's when 0."""
        return self.consumer_fetch_max_wait_ms or self.broker_traits.fetch_max_wait_ms

    @property
    def producer_batch_bytes(self) -> int:
        """producer_max_batch_size, or 1 where the broker needs one record per batch."""
        return self.broker_traits.producer_max_batch_size or self.producer_max_batch_size

    @property
    def compression_type(self) -> str | None:
        """producer_compression as aiokafka's compression_type (None: uncompressed)."""
        return self.producer_compression or None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """Build settings from LEADERWATCH_* variables; keyword overrides win."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(PREFIX + f.name.upper())
            if raw is not None and raw.strip():  # VAR= (empty, as compose passes it) keeps the default
                values[f.name] = _parse(f.type, raw, f.name)
        values.update(overrides)
        return cls(**values)

    @classmethod
    def overrides_from(cls, items: list[str]) -> dict:
        """["field=value", ...] (the tools' --set) -> {field: parsed value}; ValueError on an unknown field."""
        types = {f.name: f.type for f in dataclasses.fields(cls)}
        overrides = {}
        for item in items:
            name, _, raw = item.partition("=")
            if name not in types:
                raise ValueError(f"--set {item}: no setting {name!r}")
            overrides[name] = _parse(types[name], raw, name)
        return overrides

    @classmethod
    def env_names(cls) -> list[str]:
        """Every environment variable this object reads."""
        return [PREFIX + f.name.upper() for f in dataclasses.fields(cls)]

    @property
    def broker_bootstrap(self) -> str:
        """host:port[,host:port] without the kafka:// scheme, for plain aiokafka clients."""
        return ",".join(u.split("://", 1)[-1] for u in self.broker.split(";"))

    @property
    def web_url(self) -> str:
        """Where the CLI asks a worker: LEADERWATCH_WEB_HOST:LEADERWATCH_WEB_PORT (6066 when 0)."""
        host = "127.0.0.1" if self.web_host in ("", "0.0.0.0") else self.web_host
        return f"http://{host}:{self.web_port or DEFAULT_WEB_PORT}"

    @property
    def group_id(self) -> str:
        """The Faust app id, which names the consumer group and the tables' changelog topics: the
        app id for a worker running every stage, else the app id and its stages
        ("leaderwatch-mentions"). Workers running different stages never share a group, where
        they would split a topic both read (pages.entities: mentions and alert) between them."""
        stages = [stage for stage in ALL_STAGES if stage in self.stages]
        if stages == list(ALL_STAGES):
            return self.app_id
        suffix = "-" + "-".join(stages)
        return self.app_id if self.app_id.endswith(suffix) else self.app_id + suffix

    @property
    def table_options(self) -> dict:
        """The store options of every table: RocksDB's shared memory budget (memory:// ignores them)."""
        return {"write_buffer_size": self.rocksdb_write_buffer_bytes, "max_write_buffer_number": 2,
                "memory_bytes": self.rocksdb_memory_bytes}

    @property
    def faust_store(self) -> str:
        """The store URL Faust gets: rocksdb:// is served by leaderwatch.tablestore (one memory
        budget per worker, same files on disk); any other URL as given."""
        scheme, sep, rest = self.store.partition("://")
        return f"leaderwatch-rocksdb://{rest}" if sep and scheme == "rocksdb" else self.store

    @property
    def raw_partitions(self) -> int:
        return self.partitions_raw or self.partitions

    @property
    def clean_partitions(self) -> int:
        return self.partitions_clean or self.partitions


def _parse(type_name, raw: str, name: str):
    type_name = str(type_name)
    try:
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
        if type_name == "bool":
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if type_name.startswith("tuple"):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"{PREFIX}{name.upper()}={raw!r} is not a valid {type_name}") from None
    return raw
