"""One line per topic: name (from settings), partitions, config. Keys and values are bytes on the
wire: each stage decodes its input itself (a bad message is a dead letter, never a crashed agent)
and the runner encodes its records with orjson.

  pages.raw                     key url      PageFetched JSON (validated by the clean stage)
  pages.clean                   key doc_id   PageCleaned
  pages.entities                key doc_id   PageEntities
  leaderwatch.mention-updates   key qid      MentionUpdate
  alerts                        key qid      Alert (contract schemas/alerts.v1.json)
  pages.dead                    key as input DeadLetter
  leaderwatch.leaders           key qid      gazetteer record (compacted, 1 partition; leaders/updates.py)
Every topic is declared by the worker (created if missing); docker-compose's topic-init service
creates the same ones up front with retention.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topics:
    pages_raw: object
    pages_clean: object
    pages_entities: object
    mention_updates: object
    alerts: object
    pages_dead: object
    leaders: object

    def all(self) -> tuple:
        return (self.pages_raw, self.pages_clean, self.pages_entities, self.mention_updates, self.alerts, self.pages_dead,
                self.leaders)


def declare_topics(app, settings) -> Topics:
    """The pipeline's faust topics (raw bytes), and a task that creates those this worker only writes."""
    page_limit = {"max.message.bytes": str(settings.max_page_bytes + 1024 * 1024)}  # Apache Kafka's default is ~1 MB

    def topic(name: str, partitions: int | None = None, config: dict | None = None, **options):
        return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
                         partitions=partitions or settings.partitions, replicas=settings.replicas, internal=True,
                         config=config, **options)

    topics = Topics(
        pages_raw=topic(settings.topic_raw, settings.raw_partitions, page_limit),
        pages_clean=topic(settings.topic_clean, settings.clean_partitions, page_limit),
        pages_entities=topic(settings.topic_entities),
        mention_updates=topic(settings.topic_mention_updates),
        alerts=topic(settings.topic_alerts),
        pages_dead=topic(settings.topic_dead),
        leaders=topic(settings.topic_leaders, 1, compacting=True),
    )

    @app.task
    async def declare_all_topics() -> None:
        """Create the topics this worker only writes to (Faust declares the ones it reads)."""
        for each in topics.all():
            await each.maybe_declare()

    return topics
