/**
 * Topic name rules, as Kafka clients and tools expect them: 1 to 249 characters from
 * [a-zA-Z0-9._-], and neither "." nor "..". Names are also folder names on disk
 * (`<topic>-<partition>`), which these rules keep safe.
 */
export const topicNameBytesMax = 249; // characters

const legalTopicName = /^[a-zA-Z0-9._-]+$/;

/** Why `name` cannot be a topic name, or undefined when it can. */
export function topicNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'topic name is empty';
  if (name.length > topicNameBytesMax) return `topic name is longer than ${topicNameBytesMax} characters`;
  if (name === '.' || name === '..') return `topic name cannot be "${name}"`;
  if (!legalTopicName.test(name))
    return `topic name "${name}" may contain only ASCII letters, digits, '.', '_' and '-'`;
  return undefined;
}

/**
 * Topics Tide keeps for itself. Only these are internal: a user may name a topic `__anything`,
 * and Kafka clients would hide such a topic if it were reported internal.
 */
export const internalTopicNames: ReadonlySet<string> = new Set(['__consumer_offsets']);

export function isInternalTopic(name: string): boolean {
  return internalTopicNames.has(name);
}

/**
 * The name Kafka derives metric names from: '.' and '_' map to the same character, so two topics
 * whose names differ only there would share metrics, and Kafka refuses the second.
 */
export function topicCollisionKey(name: string): string {
  return name.replaceAll('.', '_');
}
