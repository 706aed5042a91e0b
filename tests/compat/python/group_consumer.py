"""A group member for tests/compat/groups-confluent.test.ts: a confluent_kafka Consumer with group.id.

Usage: /usr/bin/python3 group_consumer.py BOOTSTRAP TOPIC GROUP NAME [STRATEGY [INSTANCE]]
STRATEGY is partition.assignment.strategy ("-" keeps librdkafka's default); INSTANCE, when given,
is the group.instance.id (static membership). Subscribes to TOPIC in GROUP and prints one JSON
object per line, flushed at once (with cooperative-sticky, "assigned" and "revoked" list only the
partitions that changed):
  {"event": "assigned", "member": NAME, "partitions": [...]}   after each rebalance
  {"event": "revoked", "member": NAME, "partitions": [...]}
  {"event": "record", "member": NAME, "partition": P, "offset": O, "value": "..."}
  {"event": "error", "member": NAME, "error": "..."}
Runs until SIGTERM (then closes the consumer cleanly: commit and leave the group) or 120 s pass.
"""

import json
import signal
import sys
import time

from confluent_kafka import Consumer, KafkaError

RUN_S = 120
running = True


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def stop(_signum, _frame):
    global running
    running = False


def main():
    bootstrap, topic, group, name = sys.argv[1:5]
    strategy = sys.argv[5] if len(sys.argv) > 5 else "-"
    instance = sys.argv[6] if len(sys.argv) > 6 else None
    signal.signal(signal.SIGTERM, stop)
    extra = {}
    if strategy != "-":
        extra["partition.assignment.strategy"] = strategy
    if instance is not None:
        extra["group.instance.id"] = instance
    consumer = Consumer(
        {
            **extra,
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "client.id": name,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 500,
            "auto.commit.interval.ms": 200,
        }
    )

    def assigned(_consumer, partitions):
        emit({"event": "assigned", "member": name, "partitions": sorted(p.partition for p in partitions)})

    def revoked(_consumer, partitions):
        emit({"event": "revoked", "member": name, "partitions": sorted(p.partition for p in partitions)})

    consumer.subscribe([topic], on_assign=assigned, on_revoke=revoked)
    deadline = time.monotonic() + RUN_S
    while running and time.monotonic() < deadline:
        message = consumer.poll(0.2)
        if message is None:
            continue
        if message.error() is not None:
            if message.error().code() != KafkaError._PARTITION_EOF:
                emit({"event": "error", "member": name, "error": message.error().name()})
            continue
        emit(
            {
                "event": "record",
                "member": name,
                "partition": message.partition(),
                "offset": message.offset(),
                "value": message.value().decode(),
            }
        )
    consumer.close()


if __name__ == "__main__":
    main()
