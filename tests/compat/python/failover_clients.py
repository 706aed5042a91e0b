"""confluent-kafka-python clients that run across a leader kill, for tests/compat/failover-clients.test.ts.

Usage:
  /usr/bin/python3 failover_clients.py produce BOOTSTRAP TOPIC PARTITIONS COUNT PREFIX INTERVAL_MS
      Sends COUNT records, value "<PREFIX>-<i>" to partition i % PARTITIONS, one every INTERVAL_MS,
      with acks=all and retries, then flushes. Prints one JSON line per delivery report
      {"value", "partition", "offset", "error"} as it arrives, then {"done": true, "unflushed": N}.
  /usr/bin/python3 failover_clients.py consume BOOTSTRAP TOPIC PARTITIONS END_MARKER SECONDS
      Reads every partition from the beginning with assign() (no group protocol) until it has read
      END_MARKER on every partition or SECONDS pass. Prints one JSON line per record
      {"partition", "offset", "value"}, then {"done": true, "errors": [...]}.
"""

import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

FLUSH_TIMEOUT_S = 60


def emit(line):
    print(json.dumps(line), flush=True)


def produce(bootstrap, topic, partitions, count, prefix, interval_ms):
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "retries": 1000000,
            "retry.backoff.ms": 100,
            "message.timeout.ms": FLUSH_TIMEOUT_S * 1000,
            "linger.ms": 5,
        }
    )

    def on_delivery(error, message):
        emit(
            {
                "value": message.value().decode(),
                "partition": message.partition(),
                "offset": message.offset(),
                "error": None if error is None else error.name(),
            }
        )

    for index in range(count):
        producer.produce(
            topic, value=f"{prefix}-{index}".encode(), partition=index % partitions, on_delivery=on_delivery
        )
        producer.poll(interval_ms / 1000)
    unflushed = producer.flush(FLUSH_TIMEOUT_S)
    emit({"done": True, "unflushed": unflushed})


def consume(bootstrap, topic, partitions, end_marker, seconds):
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "tide-failover-assign",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
        }
    )
    consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING) for partition in range(partitions)])
    ended, errors = set(), []
    deadline = time.monotonic() + seconds
    while len(ended) < partitions and time.monotonic() < deadline:
        message = consumer.poll(0.2)
        if message is None:
            continue
        if message.error() is not None:
            if message.error().code() != KafkaError._PARTITION_EOF:
                errors.append(message.error().name())
            continue
        value = message.value().decode()
        if value == end_marker:
            ended.add(message.partition())
        emit({"partition": message.partition(), "offset": message.offset(), "value": value})
    consumer.close()
    emit({"done": True, "errors": errors})


def main():
    mode, bootstrap, topic, partitions = sys.argv[1:5]
    if mode == "produce":
        count, prefix, interval_ms = sys.argv[5:8]
        produce(bootstrap, topic, int(partitions), int(count), prefix, int(interval_ms))
    elif mode == "consume":
        end_marker, seconds = sys.argv[5:7]
        consume(bootstrap, topic, int(partitions), end_marker, float(seconds))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
