/**
 * One kafkajs 2.2.4 group member in its own process, for tests/compat/groups-kafkajs.test.ts, which
 * kills it (-9) to take a member away without a LeaveGroup.
 *
 * Usage: node --import tsx kafkajs-group-member.ts BOOTSTRAP TOPIC GROUP NAME
 * Prints one JSON object per line:
 *   {"event": "assigned", "partitions": [...]}                          after each rebalance
 *   {"event": "record", "partition": P, "offset": "O", "value": "..."}  for each record
 * Runs until killed or SIGTERM (then disconnects: commit and leave).
 */
import { Kafka, logLevel } from 'kafkajs';

const [bootstrap, topic, groupId, name] = process.argv.slice(2);
if (bootstrap === undefined || topic === undefined || groupId === undefined || name === undefined) {
  process.stderr.write('usage: kafkajs-group-member.ts BOOTSTRAP TOPIC GROUP NAME\n');
  process.exit(2);
}

const emit = (event: object): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`);
};

const kafka = new Kafka({
  brokers: bootstrap.split(','),
  clientId: name,
  logLevel: logLevel.NOTHING,
  retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 2_000 },
});
const consumer = kafka.consumer({
  groupId,
  sessionTimeout: 6_000,
  rebalanceTimeout: 20_000,
  heartbeatInterval: 500,
});
consumer.on(consumer.events.GROUP_JOIN, (event) => {
  emit({ event: 'assigned', partitions: event.payload.memberAssignment[topic] ?? [] });
});
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
await consumer.run({
  eachMessage: async ({ partition, message }) => {
    emit({ event: 'record', partition, offset: message.offset, value: String(message.value) });
  },
});
process.once('SIGTERM', () => {
  void consumer.disconnect().finally(() => process.exit(0));
});
