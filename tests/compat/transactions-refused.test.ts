import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { apiKeys } from '../../src/protocol/messages/api-keys.ts';
import { errorCodes } from '../../src/protocol/messages/error-codes.ts';
import { createFindCoordinatorRequest } from '../../src/protocol/messages/find-coordinator.ts';
import { stopAll } from '../../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../../src/testing/spu.ts';
import { parseBootstrap, WireClient } from '../../src/testing/wire-client.ts';

/**
 * Tide has no transaction coordinator yet. A transactional producer must learn that at its first
 * step, looking up the coordinator, with an error that says so, instead of retrying until its
 * timeout: librdkafka 2.0.2 (confluent-kafka-python) treats TRANSACTIONAL_ID_AUTHORIZATION_FAILED
 * as fatal and shows the broker's message, while COORDINATOR_NOT_AVAILABLE is retried.
 */

const python = '/usr/bin/python3';
const run = promisify(execFile);
const initTimeoutS = 60; // s: the failure must come from the answer, not from this timeout

const script = `
import json, sys
from confluent_kafka import KafkaException, Producer
producer = Producer({'bootstrap.servers': sys.argv[1], 'transactional.id': 'txn-1'})
try:
    producer.init_transactions(${initTimeoutS})
    print(json.dumps({'initialized': True}))
except KafkaException as exception:
    error = exception.args[0]
    print(json.dumps({'name': error.name(), 'fatal': error.fatal(), 'retriable': error.retriable(), 'text': error.str()}))
`;

let spu: TestSpu;

before(async () => {
  spu = await startSpu({ args: ['--offsets-topic-partitions', '1'] });
});

after(async () => {
  await spu?.destroy();
  await stopAll();
});

describe('a transactional producer against Tide', () => {
  it('fails init_transactions() at once with a fatal error that says why', async () => {
    const { stdout } = await run(python, ['-c', script, spu.bootstrap], {
      timeout: (initTimeoutS + 30) * 1000,
    });
    const answer = JSON.parse(stdout) as {
      name?: string;
      fatal?: boolean;
      retriable?: boolean;
      text?: string;
    };
    assert.equal(answer.name, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'not _TIMED_OUT: no retry loop');
    assert.equal(answer.fatal, true);
    assert.equal(answer.retriable, false);
    assert.match(answer.text ?? '', /does not support transactions/);
  });

  it('answers FindCoordinator for a transactional id with the reason, in every version', async () => {
    const client = await WireClient.connect(parseBootstrap(spu.bootstrap));
    try {
      const single = await client.request(
        apiKeys.FindCoordinator,
        3,
        createFindCoordinatorRequest({ key: 'txn-1', keyType: 1 }),
      );
      assert.equal(single.errorCode, errorCodes.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      assert.match(single.errorMessage ?? '', /transactional\.id/);
      const batched = await client.request(
        apiKeys.FindCoordinator,
        4,
        createFindCoordinatorRequest({ keyType: 1, coordinatorKeys: ['a', 'b'] }),
      );
      assert.deepEqual(
        batched.coordinators.map(({ errorCode, nodeId }) => [errorCode, nodeId]),
        [
          [errorCodes.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, -1],
          [errorCodes.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, -1],
        ],
      );
    } finally {
      await client.close();
    }
  });
});
