"""Reads one partition with assign() (no group protocol), for tests/compat/confluent.test.ts.

Usage: /usr/bin/python3 consume.py BOOTSTRAP TOPIC PARTITION START COUNT
START is "beginning", "end" or an absolute offset. Reads until COUNT records arrived (or a deadline
passes) and prints {"records": [{"offset", "key", "value"}...], "errors": [...]}.

With "end", the script also produces: it sends probe records one at a time until the first one
reaches the consumer (so the consumer's end position is certainly resolved), then COUNT records
"<TOPIC>-tail-<i>", and reads until all of those arrived. It reports every record it read.
"""

import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaError, Producer, TopicPartition

DEADLINE_S = 20


def start_offset(text):
    if text == "beginning":
        return OFFSET_BEGINNING
    if text == "end":
        return OFFSET_END
    return int(text)


def read(consumer, records, errors, done, seconds=DEADLINE_S):
    """Polls until done(records) holds or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while not done(records) and time.monotonic() < deadline:
        message = consumer.poll(0.2)
        if message is None:
            continue
        if message.error() is not None:
            if message.error().code() != KafkaError._PARTITION_EOF:
                errors.append(message.error().name())
            continue
        records.append(
            {"offset": message.offset(), "key": message.key().decode(), "value": message.value().decode()}
        )


def main():
    bootstrap, topic, partition, start, count = sys.argv[1:6]
    partition, count = int(partition), int(count)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "tide-compat-assign",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
        }
    )
    consumer.assign([TopicPartition(topic, partition, start_offset(start))])
    records, errors = [], []
    if start == "end":
        producer = Producer({"bootstrap.servers": bootstrap, "acks": 1})
        deadline = time.monotonic() + DEADLINE_S
        probe = 0
        while not records and time.monotonic() < deadline:
            producer.produce(topic, key=b"probe", value=f"probe-{probe}".encode(), partition=partition)
            producer.flush(DEADLINE_S)
            probe += 1
            read(consumer, records, errors, lambda got: len(got) > 0, seconds=0.5)
        for index in range(count):
            producer.produce(topic, key=f"t{index}".encode(), value=f"{topic}-tail-{index}".encode(), partition=partition)
        producer.flush(DEADLINE_S)
        tail = f"{topic}-tail-{count - 1}"
        read(consumer, records, errors, lambda got: any(r["value"] == tail for r in got))
    else:
        read(consumer, records, errors, lambda got: len(got) >= count)
    consumer.close()
    print(json.dumps({"records": records, "errors": errors}))


if __name__ == "__main__":
    main()
