import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isInternalTopic, topicNameProblem } from '../protocol/topic-names.ts';
import { effectiveTopicConfig, topicConfigProblem, topicConfigsProblem } from './topic-config.ts';

test('topic names follow Kafka rules', () => {
  for (const good of ['a', 'orders', 'orders.v1', 'A_b-c.9', 'x'.repeat(249)]) {
    assert.equal(topicNameProblem(good), undefined, good);
  }
  for (const bad of ['', '.', '..', 'has space', 'slash/name', 'ü', 'x'.repeat(250), 'a\0b']) {
    assert.match(topicNameProblem(bad) ?? '', /topic name/, JSON.stringify(bad));
  }
  assert.equal(isInternalTopic('__consumer_offsets'), true);
  assert.equal(isInternalTopic('_single'), false);
  assert.equal(isInternalTopic('__mine'), false);
});

test('topic configs are type-checked and bounded', () => {
  assert.equal(topicConfigProblem('retention.ms', '-1'), undefined);
  assert.equal(topicConfigProblem('retention.ms', '86400000'), undefined);
  assert.equal(topicConfigProblem('cleanup.policy', 'compact,delete'), undefined);
  assert.equal(topicConfigProblem('compression.type', 'zstd'), undefined);
  assert.equal(topicConfigProblem('unclean.leader.election.enable', 'true'), undefined);
  assert.match(topicConfigProblem('retention.ms', 'soon') ?? '', /integer/);
  assert.match(topicConfigProblem('retention.ms', '-2') ?? '', /at least -1/);
  assert.match(topicConfigProblem('max.message.bytes', '3000000000') ?? '', /out of range/);
  assert.match(topicConfigProblem('cleanup.policy', 'shred') ?? '', /delete, compact/);
  // The log accepts each policy once; a repeated one must not get past the admin APIs.
  assert.match(topicConfigProblem('cleanup.policy', 'delete,delete') ?? '', /at most once/);
  assert.match(topicConfigProblem('cleanup.policy', 'compact, compact') ?? '', /at most once/);
  assert.match(topicConfigProblem('compression.type', 'brotli') ?? '', /one of/);
  assert.match(topicConfigProblem('no.such.config', '1') ?? '', /unknown topic config/);
  assert.match(topicConfigProblem('segment.bytes', null) ?? '', /needs a value/);
  assert.match(topicConfigProblem('unclean.leader.election.enable', 'yes') ?? '', /true or false/);
  assert.match(topicConfigsProblem({ 'retention.ms': '1', 'min.insync.replicas': '0' }) ?? '', /min.insync/);
});

test('effective config layers overrides over defaults', () => {
  const effective = effectiveTopicConfig({ 'retention.ms': '1000' });
  assert.equal(effective['retention.ms'], '1000');
  assert.equal(effective['cleanup.policy'], 'delete');
  assert.equal(effective['segment.bytes'], '1073741824');
});
