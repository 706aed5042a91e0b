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

/** Names starting with "__" are internal (for example `__consumer_offsets`). */
export function isInternalTopic(name: string): boolean {
  return name.startsWith('__');
}
