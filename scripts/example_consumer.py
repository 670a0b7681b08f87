#!/usr/bin/env python3
"""An example downstream service: subscribe to leaderwatch's `alerts` with your own consumer group.

Only needs aiokafka (and jsonschema to check the contract). Each message value is one JSON alert,
schemas/alerts.v1.json; the key is the Wikidata id of the alert's first leader, so one leader's
alerts arrive in order. Deliveries are at-least-once: deduplicate on `alert_id`.

    python scripts/example_consumer.py --broker 127.0.0.1:9092 --group my-service [--kind engagement]
"""
from __future__ import annotations

import argparse
import asyncio
import json

from aiokafka import AIOKafkaConsumer


async def consume(broker: str, topic: str, group: str, kind: str | None, max_alerts: int | None) -> None:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=broker, group_id=group, auto_offset_reset="earliest",
                                enable_auto_commit=False, session_timeout_ms=10_000, heartbeat_interval_ms=1_000)
    await consumer.start()
    seen: set[str] = set()
    try:
        async for message in consumer:
            alert = json.loads(message.value)
            if alert["schema_version"] != 1:
                continue  # a newer contract: this consumer only knows v1
            if alert["alert_id"] not in seen and (kind is None or alert["kind"] == kind):
                seen.add(alert["alert_id"])
                names = ", ".join(f"{l['name']} ({l['country']})" for l in alert["leaders"])
                print(f"{alert['kind']:<10} {alert['event_time']}  {names}  [{message.key.decode()}]", flush=True)
            await consumer.commit()  # after handling: at-least-once
            if max_alerts and len(seen) >= max_alerts:
                break
    finally:
        await consumer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--broker", default="127.0.0.1:9092", help="bootstrap host:port")
    parser.add_argument("--topic", default="alerts")
    parser.add_argument("--group", default="example-alert-consumer", help="your own consumer group")
    parser.add_argument("--kind", choices=["engagement", "spike", "watch"])
    parser.add_argument("--max", type=int, default=None, help="stop after this many alerts")
    args = parser.parse_args()
    asyncio.run(consume(args.broker, args.topic, args.group, args.kind, args.max))


if __name__ == "__main__":
    main()
