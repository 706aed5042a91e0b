"""An idempotent producer (enable.idempotence=true), for tests/compat/idempotent.test.ts.

Usage: /usr/bin/python3 idempotent_producer.py BOOTSTRAP TOPIC COUNT
Sends COUNT records to partition 0 with values "py-<i>" (small batches, several in flight), flushes,
and prints {"acked": [[index, offset]...], "errors": [NAME...]}.
"""

import json
import sys

from confluent_kafka import Producer

DEADLINE_S = 60


def main(bootstrap, topic, count):
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "linger.ms": 2,
            "batch.num.messages": 5,
            "message.timeout.ms": 45000,
            "retry.backoff.ms": 50,
            "socket.timeout.ms": 10000,
        }
    )
    acked, errors = [], []

    def on_delivery(error, message):
        if error is not None:
            errors.append(error.name())
        else:
            acked.append([int(message.value().decode()[3:]), message.offset()])

    for index in range(count):
        producer.produce(topic, value=f"py-{index}".encode(), partition=0, on_delivery=on_delivery)
        producer.poll(0)
    remaining = producer.flush(DEADLINE_S)
    if remaining > 0:
        errors.append(f"{remaining} records not delivered in {DEADLINE_S} s")
    print(json.dumps({"acked": acked, "errors": errors}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
