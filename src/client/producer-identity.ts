import { apiKeys } from '../protocol/messages/api-keys.ts';
import { createInitProducerIdRequest } from '../protocol/messages/init-producer-id.ts';
import type { ClusterClient } from './cluster-client.ts';
import { kafkaError } from './errors.ts';

/**
 * An idempotent producer's identity: the producer id and epoch from InitProducerId, which every batch
 * carries. A bump (after a batch was refused for its sequence or epoch) asks again with the current id
 * and epoch: SPUs speaking InitProducerId v3+ answer the same id with the next epoch, older ones a new
 * id; either way every partition's sequences start again at 0.
 */

/** What idempotent (non-transactional) producers send as the transaction timeout. */
const noTransactionTimeoutMs = 2 ** 31 - 1;

export class ProducerIdentity {
  readonly #cluster: ClusterClient;
  producerId = -1n;
  epoch = -1;
  #bumpWanted = false;
  #loading: Promise<void> | undefined;

  constructor(cluster: ClusterClient) {
    this.#cluster = cluster;
  }

  /** Batches may take new sequence numbers: an id is known and no bump is waiting. */
  get ready(): boolean {
    return this.producerId >= 0n && !this.#bumpWanted;
  }

  get bumpWanted(): boolean {
    return this.#bumpWanted;
  }

  get loading(): boolean {
    return this.#loading !== undefined;
  }

  /** Asks for a new epoch before any further batch gets a sequence number. */
  requestBump(): void {
    if (this.producerId >= 0n) this.#bumpWanted = true;
  }

  /** Runs InitProducerId (first id or bump) unless one is running; rejects with its error. */
  load(): Promise<void> {
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #load(): Promise<void> {
    const response = await this.#cluster.callAny(
      apiKeys.InitProducerId,
      createInitProducerIdRequest({
        transactionalId: null,
        transactionTimeoutMs: noTransactionTimeoutMs,
        producerId: this.producerId,
        producerEpoch: this.epoch,
      }),
    );
    if (response.errorCode !== 0)
      throw kafkaError(response.errorCode, 'InitProducerId failed: no producer id for idempotence');
    this.producerId = response.producerId;
    this.epoch = response.producerEpoch;
    this.#bumpWanted = false;
  }
}
