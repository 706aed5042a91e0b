/**
 * A runnable consumer: prints every record of a topic from the beginning, then keeps waiting for new
 * ones until Ctrl-C (or until it is idle at the end, with --once).
 *
 *   npx tsx examples/consumer.ts [BOOTSTRAP] [TOPIC] [--once]
 *
 * Without BOOTSTRAP (or with `-`) it connects to the current profile's cluster.
 */
import { Offset, Tide, valueToJson, valueToString } from '@tidestream/tide';

const [bootstrap = '-', topic = 'example-events'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const once = process.argv.includes('--once');

// Ctrl-C aborts the signal, which ends the for-await loop normally.
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());

const tide = await Tide.connect(bootstrap === '-' ? {} : { bootstrap });
try {
  const consumer = tide.consumer(topic, {
    offset: Offset.beginning(),
    ...(once ? { until: Offset.end() } : {}),
    signal: stop.signal,
  });
  for await (const record of consumer) {
    let value: unknown;
    try {
      value = valueToJson(record.value);
    } catch {
      value = valueToString(record.value);
    }
    const key = valueToString(record.key) ?? '(no key)';
    console.log(`${record.partition}/${record.offset} ${key}:`, value);
  }
} finally {
  await tide.close();
}
