/**
 * A runnable producer: sends a few JSON events, keyed by user, and prints where each landed.
 *
 *   npx tide cluster start             # once: a local cluster, made the current profile
 *   npx tsx examples/producer.ts [BOOTSTRAP] [TOPIC]
 *
 * Without BOOTSTRAP (or with `-`) it connects to the current profile's cluster.
 *
 * The topic is created when missing (3 partitions). Records with the same key always go to the same
 * partition (murmur2, as the Java client hashes keys), so each user's events stay in order.
 */
import { jsonValue, Tide } from '@tidestream/tide';

const bootstrap = process.argv[2];
const topic = process.argv[3] ?? 'example-events';

const tide = await Tide.connect(bootstrap === undefined || bootstrap === '-' ? {} : { bootstrap });
try {
  const admin = tide.admin();
  const existing = await admin.listTopics();
  if (!existing.some((listing) => listing.name === topic)) {
    await admin.createTopic(topic, { partitions: 3 });
  }

  const producer = tide.producer(topic, { lingerMs: 5, compression: 'lz4' });
  const users = ['ada', 'grace', 'linus'];
  const sends = [];
  for (let i = 0; i < 9; i++) {
    const user = users[i % users.length]!;
    sends.push(
      producer.send({
        key: user,
        value: jsonValue({ user, action: i % 2 === 0 ? 'login' : 'click', at: new Date().toISOString() }),
        headers: { source: 'examples/producer.ts' },
      }),
    );
  }
  // Each send resolves once the SPU acknowledged its batch (acks = all by default).
  for (const { partition, offset } of await Promise.all(sends)) {
    console.log(`stored in ${topic}-${partition} at offset ${offset}`);
  }
  await producer.close();
} finally {
  await tide.close();
}
