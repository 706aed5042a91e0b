"""Records with keys, headers and timestamps, for tests/compat/client-interop.test.ts.

Usage:
  /usr/bin/python3 client_interop.py produce BOOTSTRAP TOPIC COUNT
      sends COUNT records to partition 0: key "py-k<i>", value "py-v<i>", header ("n", "<i>"),
      timestamp 1600000000000 + i; prints {"delivered": N, "errors": [...]}.
  /usr/bin/python3 client_interop.py consume BOOTSTRAP TOPIC PARTITION COUNT
      reads COUNT records from the beginning and prints {"records": [{"offset", "key", "value",
      "headers": [[k, v]...], "timestamp"}...], "errors": [...]}.
"""

import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

DEADLINE_S = 20


def text(data):
    return None if data is None else data.decode()


def produce(bootstrap, topic, count):
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    errors, delivered = [], []

    def on_delivery(error, message):
        if error is not None:
            errors.append(error.name())
        else:
            delivered.append(message.offset())

    for index in range(count):
        producer.produce(
            topic,
            key=f"py-k{index}".encode(),
            value=f"py-v{index}".encode(),
            partition=0,
            headers=[("n", str(index).encode())],
            timestamp=1600000000000 + index,
            on_delivery=on_delivery,
        )
        producer.poll(0)
    producer.flush(DEADLINE_S)
    print(json.dumps({"delivered": len(delivered), "errors": errors}))


def consume(bootstrap, topic, partition, count):
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "tide-client-interop", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
    records, errors = [], []
    deadline = time.monotonic() + DEADLINE_S
    while len(records) < count and time.monotonic() < deadline:
        message = consumer.poll(0.2)
        if message is None:
            continue
        if message.error() is not None:
            if message.error().code() != KafkaError._PARTITION_EOF:
                errors.append(message.error().name())
            continue
        records.append(
            {
                "offset": message.offset(),
                "key": text(message.key()),
                "value": text(message.value()),
                "headers": [[k, text(v)] for k, v in (message.headers() or [])],
                "timestamp": message.timestamp()[1],
            }
        )
    consumer.close()
    print(json.dumps({"records": records, "errors": errors}))


def main():
    mode = sys.argv[1]
    if mode == "produce":
        produce(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        consume(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))


if __name__ == "__main__":
    main()
