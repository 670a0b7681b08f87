"""One line per topic: name (from settings), key type, record type. Keys are UTF-8 strings.

Every topic is declared by the worker (created if missing) with settings.partitions, so tables
and their changelogs agree; docker-compose's topic-init service creates the same ones up front.
"""
from __future__ import annotations

from agents.app import app, settings
from agents.records import Alert, DeadLetter, MentionUpdate, PageCleaned, PageEntities

_PAGE_LIMIT = str(settings.max_page_bytes + 1024 * 1024)  # Apache Kafka's default is ~1 MB
_own = dict(partitions=settings.partitions, replicas=settings.replicas, internal=True)

# pages.raw is read as bytes: the clean stage validates the envelope itself (bad input -> pages.dead)
pages_raw_topic = app.topic(settings.topic_raw, key_type=bytes, value_type=bytes, value_serializer="raw",
                            config={"max.message.bytes": _PAGE_LIMIT}, **{**_own, "partitions": settings.raw_partitions})
pages_clean_topic = app.topic(settings.topic_clean, key_type=str, value_type=PageCleaned, config={"max.message.bytes": _PAGE_LIMIT},
                              **{**_own, "partitions": settings.clean_partitions})
pages_entities_topic = app.topic(settings.topic_entities, key_type=str, value_type=PageEntities, **_own)
mention_updates_topic = app.topic(settings.topic_mention_updates, key_type=str, value_type=MentionUpdate, **_own)
alerts_topic = app.topic(settings.topic_alerts, key_type=str, value_type=Alert, **_own)
pages_dead_topic = app.topic(settings.topic_dead, key_type=str, value_type=DeadLetter, **_own)

# what the agents read: the same topics as raw bytes, decoded by each stage (dead.decoded_events),
# so a message that is not a valid record goes to pages.dead instead of crashing the agent
def _input_of(topic):
    return app.topic(topic.get_topic_name(), key_type=bytes, value_type=bytes, value_serializer="raw",
                     config=topic.config, **{**_own, "partitions": topic.partitions})


pages_clean_input = _input_of(pages_clean_topic)
pages_entities_input = _input_of(pages_entities_topic)
mention_updates_input = _input_of(mention_updates_topic)

ALL_TOPICS = (pages_raw_topic, pages_clean_topic, pages_entities_topic, mention_updates_topic, alerts_topic, pages_dead_topic)


@app.task
async def declare_topics() -> None:
    """Create the topics this worker only writes to (Faust declares the ones it reads)."""
    for topic in ALL_TOPICS:
        await topic.maybe_declare()
