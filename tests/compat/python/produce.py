"""Produces records with delivery reports, for tests/compat/confluent.test.ts.

Usage: /usr/bin/python3 produce.py BOOTSTRAP TOPIC PARTITION COUNT PREFIX [COMPRESSION]
Sends COUNT records (key "k<i>", value "<PREFIX>-<i>") to PARTITION with acks=1 and prints
{"reports": [{"value", "partition", "offset", "error"}...], "unflushed": N} in delivery order.
"""

import json
import sys

from confluent_kafka import Producer

TIMEOUT_S = 20


def main():
    bootstrap, topic, partition, count, prefix = sys.argv[1:6]
    compression = sys.argv[6] if len(sys.argv) > 6 else "none"
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": 1,
            "linger.ms": 5,
            "compression.type": compression,
            "message.timeout.ms": TIMEOUT_S * 1000,
        }
    )
    reports = []

    def on_delivery(error, message):
        reports.append(
            {
                "value": message.value().decode(),
                "partition": message.partition(),
                "offset": message.offset(),
                "error": None if error is None else error.name(),
            }
        )

    for index in range(int(count)):
        producer.produce(
            topic,
            key=f"k{index}".encode(),
            value=f"{prefix}-{index}".encode(),
            partition=int(partition),
            on_delivery=on_delivery,
        )
        producer.poll(0)
    unflushed = producer.flush(TIMEOUT_S)
    print(json.dumps({"reports": reports, "unflushed": unflushed}))


if __name__ == "__main__":
    main()
