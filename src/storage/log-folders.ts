import { createHash } from 'node:crypto';
import { topicNameProblem } from '../protocol/topic-names.ts';
import { StorageError, storageErrorCodes } from './errors.ts';

/**
 * Names of partition folders in a data folder. A log lives in `<topic>-<partition>`, as in Kafka,
 * whenever that fits the file systems' 255-byte name limit (topic names are ASCII, so characters
 * are bytes). A legal topic name has up to 249 characters and a partition up to 10 digits, so a few
 * combinations do not fit: those get `<first 200 characters>~<hash>-<partition>` (`~` never occurs
 * in a topic name, so the two forms cannot collide) and a `log.name` file inside that says whose log
 * it is. A folder being deleted is first renamed to a short name of its own (`<hash>.<ms>.deleting`),
 * so deleting works for every folder whatever its length.
 */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Longest file name ext4, xfs, btrfs and tmpfs accept. */
export const fileNameBytesMax = 255; // bytes
/** Characters of the topic kept in a hashed folder name, so operators can still tell logs apart. */
const hashedTopicPrefixChars = 200;
const hashChars = 32; // hex characters of SHA-256 (128 bits: collisions are not a concern)
export const deletingSuffix = '.deleting';
/** Inside a hashed folder: `<topic>\n<partition>\n`. */
export const logNameFileName = 'log.name';

function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, hashChars);
}

/** The folder of a log; throws INVALID_LOG_NAME for a topic or partition no log can have. */
export function logFolderName(topic: string, partition: number): string {
  const problem = topicNameProblem(topic);
  if (problem !== undefined) throw new StorageError(storageErrorCodes.invalidLogName, problem);
  if (!Number.isInteger(partition) || partition < 0 || partition > 0x7fffffff)
    throw new StorageError(
      storageErrorCodes.invalidLogName,
      `partition ${partition} is not a valid partition number`,
    );
  const plain = `${topic}-${partition}`;
  if (plain.length <= fileNameBytesMax) return plain;
  return `${topic.slice(0, hashedTopicPrefixChars)}~${hashOf(topic)}-${partition}`;
}

/** True when the folder name is the hashed form, whose log is named by its `log.name` file. */
export function isHashedLogFolder(name: string): boolean {
  return name.includes('~');
}

/** Topic and partition named by a plain log folder, or undefined when the name is not one. */
export function parseLogFolderName(name: string): TopicPartition | undefined {
  const match = /^(.+)-(\d{1,10})$/.exec(name);
  if (match === null || topicNameProblem(match[1]!) !== undefined) return undefined;
  const partition = Number(match[2]);
  return partition <= 0x7fffffff ? { topic: match[1]!, partition } : undefined;
}

export function encodeLogName(log: TopicPartition): Buffer {
  return Buffer.from(`${log.topic}\n${log.partition}\n`);
}

/** The log a hashed folder's `log.name` names, when it is sound and matches the folder. */
export function decodeLogName(folder: string, content: Buffer | undefined): TopicPartition | undefined {
  if (content === undefined) return undefined;
  const [topic, partitionText] = content.toString('latin1').split('\n');
  if (topic === undefined || partitionText === undefined || !/^\d{1,10}$/.test(partitionText))
    return undefined;
  const partition = Number(partitionText);
  try {
    return logFolderName(topic, partition) === folder ? { topic, partition } : undefined;
  } catch {
    return undefined;
  }
}

/** The short name a folder is renamed to while it is deleted. */
export function deletingFolderName(folder: string, nowMs: number): string {
  return `${hashOf(folder)}.${nowMs}${deletingSuffix}`;
}
