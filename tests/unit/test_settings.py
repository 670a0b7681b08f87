from __future__ import annotations

import pytest

from leaderwatch.settings import Settings


def test_settings_from_environment():
    s = Settings.from_env({"LEADERWATCH_BROKER": "kafka://k:9092", "LEADERWATCH_WEB_PORT": "7000",
                           "LEADERWATCH_STAGES": "clean, extract", "LEADERWATCH_ALERT_BACKFILL_SPIKES": "yes",
                           "LEADERWATCH_GC_FREEZE": "false"})
    assert s.broker_bootstrap == "k:9092" and s.web_port == 7000
    assert s.stages == ("clean", "extract") and s.alert_backfill_spikes is True
    assert s.gc_freeze is False and Settings().gc_freeze is True
    assert s.web_host == "127.0.0.1"  # local by default
    with pytest.raises(ValueError, match="LEADERWATCH_WEB_PORT"):
        Settings.from_env({"LEADERWATCH_WEB_PORT": "http"})


def test_secrets_never_in_repr():
    assert "hunter2" not in repr(Settings(broker_sasl_password="hunter2"))


def test_empty_variables_keep_the_defaults():
    s = Settings.from_env({"LEADERWATCH_WEB_PORT": "", "LEADERWATCH_BROKER": " ", "LEADERWATCH_STAGES": ""})
    assert s.web_port == 0 and s.broker == Settings().broker and s.stages == Settings().stages


def test_kafka_security_reaches_both_clients(tmp_path):
    """LEADERWATCH_BROKER_* security settings -> the worker's Faust credentials and the CLI's aiokafka
    options: SASL_SSL with SCRAM and a CA file, SSL alone, and PLAINTEXT with nothing."""
    import ssl

    import faust

    from leaderwatch.kafka.security import faust_credentials as broker_credentials
    from leaderwatch.kafka.security import aiokafka_security as kafka_security

    ca_file = "/etc/ssl/certs/ca-certificates.crt"
    if not __import__("os").path.exists(ca_file):
        pytest.skip("no system CA bundle to load")
    scram = Settings.from_env({"LEADERWATCH_BROKER_SECURITY_PROTOCOL": "SASL_SSL", "LEADERWATCH_BROKER_SASL_MECHANISM": "SCRAM-SHA-512",
                               "LEADERWATCH_BROKER_SASL_USERNAME": "lw", "LEADERWATCH_BROKER_SASL_PASSWORD": "hunter2",
                               "LEADERWATCH_BROKER_CA_FILE": ca_file})
    credentials = broker_credentials(scram)
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.username, credentials.password, credentials.mechanism.value) == ("lw", "hunter2", "SCRAM-SHA-512")
    assert isinstance(credentials.ssl_context, ssl.SSLContext) and credentials.ssl_context.get_ca_certs()
    options = kafka_security(scram)
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("lw", "hunter2")
    assert options["ssl_context"].get_ca_certs()
    tls = Settings.from_env({"LEADERWATCH_BROKER_SECURITY_PROTOCOL": "SSL", "LEADERWATCH_BROKER_CA_FILE": ca_file})
    assert isinstance(broker_credentials(tls), faust.SSLCredentials) and "sasl_mechanism" not in kafka_security(tls)
    assert broker_credentials(Settings()) is None and kafka_security(Settings()) == {}
    assert "hunter2" not in repr(scram) and "hunter2" not in str(scram)


def test_workers_running_different_stages_never_share_a_consumer_group():
    """Under the default app id, a mentions worker and an alert worker both read pages.entities:
    in one group they would split its partitions and each see half the pages."""
    every = Settings()
    mentions = Settings.from_env({"LEADERWATCH_STAGES": "mentions"})
    alert = Settings.from_env({"LEADERWATCH_STAGES": "alert"})
    both = Settings.from_env({"LEADERWATCH_STAGES": "alert,mentions"})
    assert every.group_id == "leaderwatch"
    assert mentions.group_id == "leaderwatch-mentions" and alert.group_id == "leaderwatch-alert"
    assert both.group_id == "leaderwatch-mentions-alert"  # flow order, whatever the order given
    # compose's explicit per-service ids stay as they are
    assert Settings(app_id="leaderwatch-mentions", stages=("mentions",)).group_id == "leaderwatch-mentions"
    from leaderwatch.app import create_app

    assert create_app(mentions).conf.id == "leaderwatch-mentions"


def test_unknown_stage_is_refused():
    with pytest.raises(ValueError, match="unknown stage 'clena'"):
        Settings.from_env({"LEADERWATCH_STAGES": "clena,extract"})


def test_the_stream_buffer_bound_reaches_faust():
    """A worker with a backlog fetches at most this many events ahead per stream (Faust's own
    default, 4096, let it hold thousands of ~190 KB pages)."""
    from leaderwatch.app import create_app

    assert create_app(Settings(app_id="buffer-test")).conf.stream_buffer_maxsize == Settings().stream_buffer_maxsize == 32
    assert create_app(Settings(app_id="buffer-test", stream_buffer_maxsize=7)).conf.stream_buffer_maxsize == 7


def test_every_table_bounds_its_rocksdb_memory():
    """Faust's RocksDB defaults (64 MiB write buffers x 3, a 2 GiB block cache) for each table
    partition let a worker grow with every write it held; rocksdb:// tables get leaderwatch's
    store, whose databases share one budget (tests/unit/test_tablestore.py opens them)."""
    from leaderwatch.__main__ import build_worker_app
    from leaderwatch.tablestore import Store

    app, _ = build_worker_app(Settings(app_id="rocksdb-options-test", store="rocksdb://"))
    assert app.conf.store.scheme == "leaderwatch-rocksdb"
    tables = list(app.tables.values())
    assert {t.name for t in tables} >= {"doc_to_contribution", "leader_to_mentions", "leader_doc_to_mentions",
                                        "leader_window_to_mentions", "alert_id_to_detected_at"}
    for table in tables:
        assert table.options["write_buffer_size"] == 1024 * 1024, table.name
        assert table.options["memory_bytes"] == 16 * 1024 * 1024, table.name
        assert isinstance(table.data, Store), table.name
    assert Settings(store="memory://").faust_store == "memory://"

def test_producer_compression_is_a_kafka_codec_or_none():
    assert Settings.from_env({}).compression_type is None
    assert Settings.from_env({"LEADERWATCH_PRODUCER_COMPRESSION": "lz4"}).compression_type == "lz4"
    with pytest.raises(ValueError, match="LEADERWATCH_PRODUCER_COMPRESSION: 'brotli'"):
        Settings.from_env({"LEADERWATCH_PRODUCER_COMPRESSION": "brotli"})
