"""LEADERWATCH_BROKER_KIND decides every broker difference: batches, idempotence, transactions."""
import pytest

from leaderwatch.app import create_app
from leaderwatch.kafka.clients import producer_options
from leaderwatch.settings import Settings


def test_on_apache_kafka_producers_batch_and_are_idempotent_with_acks_all():
    settings = Settings.from_env({"LEADERWATCH_BROKER": "kafka://a:9092,b:9092"})
    assert settings.broker_kind == "kafka" and settings.producer_batch_bytes == 16384
    options = producer_options(settings)
    assert options["acks"] == "all" and options["enable_idempotence"] is True and "max_batch_size" not in options
    assert options["bootstrap_servers"] == "a:9092,b:9092"
    app = create_app(settings)
    assert app.conf.producer_max_batch_size == 16384
    assert app.producer._settings_extra() == {"acks": "all", "enable_idempotence": True}
    assert settings.fetch_wait_ms == 500  # Kafka answers a fetch when a record arrives: a long wait costs nothing


def test_on_the_embedded_broker_one_record_per_batch_and_no_idempotence():
    settings = Settings.from_env({"LEADERWATCH_BROKER_KIND": "embedded", "LEADERWATCH_PRODUCER_MAX_BATCH_SIZE": "65536"})
    assert settings.producer_batch_bytes == 1
    options = producer_options(settings)
    assert options["max_batch_size"] == 1 and "enable_idempotence" not in options and "acks" not in options
    app = create_app(settings)
    assert app.conf.producer_max_batch_size == 1 and app.producer._settings_extra() == {}
    assert settings.fetch_wait_ms == 20  # it holds a fetch naming several topics for the whole wait
    assert Settings(broker_kind="embedded", consumer_fetch_max_wait_ms=5).fetch_wait_ms == 5


def test_kafka_only_features_are_refused_on_the_embedded_broker():
    with pytest.raises(ValueError, match="BROKER_KIND"):
        Settings(broker_kind="tansu")
    with pytest.raises(ValueError, match="exactly_once needs Kafka transactions"):
        Settings(broker_kind="embedded", processing_guarantee="exactly_once")
    assert Settings().group_instance_id_wanted and not Settings(broker_kind="embedded").group_instance_id_wanted
    assert not Settings(static_membership=False).group_instance_id_wanted
    with pytest.raises(ValueError, match="PROCESSING_GUARANTEE"):
        Settings(processing_guarantee="at_most_once")
    assert create_app(Settings(processing_guarantee="exactly_once")).conf.processing_guarantee.value == "exactly_once"


def test_static_member_names_follow_the_data_dir(tmp_path):
    from leaderwatch.worker import group_instance_id

    first, second = tmp_path / "a" / "g" / "host-0", tmp_path / "b" / "g" / "host-0"
    assert group_instance_id("g", first) == group_instance_id("g", first)  # a restart takes it back
    assert group_instance_id("g", first) != group_instance_id("g", second)  # same slot, other dir
    assert group_instance_id("g", first).startswith("g-host-0-")
