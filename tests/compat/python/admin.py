"""AdminClient operations against a Tide SPU, for tests/compat/confluent.test.ts.

Usage: /usr/bin/python3 admin.py BOOTSTRAP OPERATION JSON_ARGUMENTS
Prints one JSON object. Per-resource failures are reported as {"error": NAME, "message": TEXT}.
"""

import json
import sys

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

TIMEOUT_S = 20


def outcome(future):
    """The result of one admin future: None on success, or the Kafka error's name and message."""
    try:
        future.result(timeout=TIMEOUT_S)
        return {"error": None}
    except KafkaException as exception:
        error = exception.args[0]
        return {"error": error.name(), "message": error.str()}


def create(admin, arguments):
    topics = [
        NewTopic(
            spec["name"],
            num_partitions=spec.get("partitions", 1),
            replication_factor=spec.get("replicationFactor", 1),
            config=spec.get("configs", {}),
        )
        for spec in arguments["topics"]
    ]
    futures = admin.create_topics(
        topics, validate_only=arguments.get("validateOnly", False), operation_timeout=TIMEOUT_S
    )
    return {name: outcome(future) for name, future in futures.items()}


def list_topics(admin, arguments):
    metadata = admin.list_topics(topic=arguments.get("topic"), timeout=TIMEOUT_S)
    return {
        "clusterId": metadata.cluster_id,
        "controllerId": metadata.controller_id,
        "brokers": [{"id": b.id, "host": b.host, "port": b.port} for b in metadata.brokers.values()],
        "topics": {
            name: {
                "error": None if topic.error is None else topic.error.name(),
                "partitions": {
                    str(p.id): {"leader": p.leader, "replicas": p.replicas, "isrs": p.isrs}
                    for p in topic.partitions.values()
                },
            }
            for name, topic in metadata.topics.items()
        },
    }


def describe_configs(admin, arguments):
    resource = ConfigResource(ConfigResource.Type.TOPIC, arguments["topic"])
    future = admin.describe_configs([resource], request_timeout=TIMEOUT_S)[resource]
    try:
        entries = future.result(timeout=TIMEOUT_S)
    except KafkaException as exception:
        return {"error": exception.args[0].name(), "message": exception.args[0].str()}
    return {
        "error": None,
        "configs": {
            name: {
                "value": entry.value,
                "source": getattr(entry.source, "value", entry.source),
                "isDefault": entry.is_default,
                "readOnly": entry.is_read_only,
                "sensitive": entry.is_sensitive,
            }
            for name, entry in entries.items()
        },
    }


def alter_configs(admin, arguments):
    resource = ConfigResource(ConfigResource.Type.TOPIC, arguments["topic"], set_config=arguments["configs"])
    futures = admin.alter_configs(
        [resource], validate_only=arguments.get("validateOnly", False), request_timeout=TIMEOUT_S
    )
    return outcome(futures[resource])


def create_partitions(admin, arguments):
    futures = admin.create_partitions(
        [NewPartitions(arguments["topic"], arguments["count"])], operation_timeout=TIMEOUT_S
    )
    return {name: outcome(future) for name, future in futures.items()}


def delete(admin, arguments):
    futures = admin.delete_topics(arguments["topics"], operation_timeout=TIMEOUT_S)
    return {name: outcome(future) for name, future in futures.items()}


OPERATIONS = {
    "create": create,
    "list": list_topics,
    "describe-configs": describe_configs,
    "alter-configs": alter_configs,
    "create-partitions": create_partitions,
    "delete": delete,
}


def main():
    bootstrap, operation, arguments = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    admin = AdminClient({"bootstrap.servers": bootstrap})
    print(json.dumps(OPERATIONS[operation](admin, arguments)))


if __name__ == "__main__":
    main()
