import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import { effectiveTopicConfig } from '../metadata/topic-config.ts';
import {
  type AlterPartitionRequest,
  type AlterPartitionRequestTopicData,
  type AlterPartitionResponse,
  type AlterPartitionResponsePartitionData,
  createAlterPartitionResponse,
  createAlterPartitionResponsePartitionData,
  createAlterPartitionResponseTopicData,
} from '../protocol/messages/alter-partition.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { decideIsr, electAfterLoss, electPreferred, type IsOnline, noLeader } from './election.ts';
import type { MetadataStore, MetadataWrite } from './metadata-store.ts';
import { advanceReassignment, dropWrites } from './reassignment.ts';
import { Reassignments } from './reassignment-frontend.ts';
import type { SpuRegistry } from './spu-registry.ts';
import type { TopicFrontend } from './topic-frontend.ts';
import { type PartitionRecord, partitionKey, type TopicRecord, topicPartitions } from './topic-records.ts';

/**
 * The SC's leadership duties: elections when SPUs go away (session timeout, controlled shutdown),
 * preferred-leader elections when they are back in sync, and ISR changes proposed by leaders
 * (AlterPartition). Decisions come from election.ts; this module reads and writes the stored
 * partitions inside the topic frontend's change queue, so no admin change interleaves, and reports
 * every change (the reconciler then pushes LeaderAndIsr and UpdateMetadata).
 *
 * Repairs are level-triggered: a pass looks at every partition and fixes what the online set calls
 * for, so a missed event is fixed by the next pass. For the first session timeout after the SC
 * starts, SPUs that have not registered yet are presumed alive (they are re-registering after the SC
 * restart); only SPUs this process saw go offline count as gone until then.
 */

export class Leadership {
  readonly #store: MetadataStore;
  readonly #spus: SpuRegistry;
  readonly #topics: TopicFrontend;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #autoRebalance: boolean;
  readonly #graceEndMs: number;
  readonly #onChange: () => void;
  readonly #replicaOffline: (spuId: number, topic: string, partition: number) => boolean;
  /** SPUs seen going offline by this process (and not back since). */
  readonly #gone = new Set<number>();
  /** AlterPartitionReassignments and ListPartitionReassignments; the moves advance in `repair`. */
  readonly reassignments: Reassignments;

  constructor(options: {
    store: MetadataStore;
    spus: SpuRegistry;
    topics: TopicFrontend;
    clock: Clock;
    logger: Logger;
    sessionTimeoutMs: number;
    autoRebalance: boolean;
    onChange: () => void;
    /** True when an SPU reported that it can no longer write its replica of a partition. */
    replicaOffline?: (spuId: number, topic: string, partition: number) => boolean;
  }) {
    this.#replicaOffline = options.replicaOffline ?? (() => false);
    this.#store = options.store;
    this.#spus = options.spus;
    this.#topics = options.topics;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#autoRebalance = options.autoRebalance;
    this.#graceEndMs = options.clock.monotonicMs() + options.sessionTimeoutMs;
    this.#onChange = options.onChange;
    this.reassignments = new Reassignments({
      ...options,
      logger: options.logger.child({ component: 'reassignment' }),
    });
  }

  /** Called when an SPU goes online or offline; a repair pass follows (call `repair`). */
  spuChanged(spuId: number, online: boolean): void {
    if (online) this.#gone.delete(spuId);
    else this.#gone.add(spuId);
  }

  /**
   * One pass over every partition: offline SPUs leave the ISR, leaderless partitions get a leader,
   * and (when enabled) leadership returns to preferred replicas. Resolves with whether anything
   * changed.
   */
  repair(): Promise<boolean> {
    return this.#topics.exclusive(async () => {
      const presumed = this.#presumedOnline();
      const writes: MetadataWrite[] = [];
      for (const topic of this.#topics.topics()) {
        const unclean = effectiveTopicConfig(topic.configs)['unclean.leader.election.enable'] === 'true';
        for (const partition of topicPartitions(this.#store, topic)) {
          const { next, dropped } = this.#nextState(partition, presumed, unclean, topic.name);
          if (next === undefined) continue;
          writes.push(this.#write(next), ...dropWrites(this.#store, next, dropped));
          this.#logger.info('partition leadership changed', {
            topic: topic.name,
            partition: partition.partition,
            leader: next.leader,
            leaderEpoch: next.leaderEpoch,
            isr: next.isr,
            partitionEpoch: next.partitionEpoch,
            ...(sameReplicas(next, partition) ? {} : { replicas: next.replicas, dropped }),
          });
        }
      }
      if (writes.length === 0) return false;
      await this.#store.commit(writes);
      this.#onChange();
      return true;
    });
  }

  /**
   * One partition's change in a pass: elections after a loss, then the preferred leader (not while
   * the partition moves: that would undo the move's handover), then the move's next step.
   */
  #nextState(
    partition: PartitionRecord,
    presumed: IsOnline,
    unclean: boolean,
    topic: string,
  ): { next: PartitionRecord | undefined; dropped: readonly number[] } {
    // A replica whose SPU reported its storage failed counts as lost for this partition alone.
    const writable = (id: number): boolean => !this.#replicaOffline(id, topic, partition.partition);
    const online = (id: number): boolean => this.#spus.isOnline(id) && writable(id);
    const afterLoss = electAfterLoss(partition, (id) => presumed(id) && writable(id), unclean);
    const current = afterLoss ?? partition;
    const elected =
      this.#autoRebalance && current.reassignment === undefined
        ? (electPreferred(current, online) ?? afterLoss)
        : afterLoss;
    const step = advanceReassignment(elected ?? partition, online);
    return { next: step?.record ?? elected, dropped: step?.dropped ?? [] };
  }

  /**
   * SPU `spuId` registered as a new process. What its replicas hold may be less than what it had
   * acknowledged (a torn tail, lost page cache) and, when the SC was down meanwhile, nobody saw it
   * go offline: so it leaves every ISR and every leadership now, as if it had gone offline, and
   * returns to an ISR only when its leader sees it catch up (AlterPartition). As after any loss, a
   * last in-sync replica stays listed: it is still the most recent copy there is.
   */
  fenceRestarted(spuId: number): Promise<void> {
    return this.#topics.exclusive(async () => {
      const presumed = this.#presumedOnline();
      const others: IsOnline = (id) => id !== spuId && presumed(id);
      const writes: MetadataWrite[] = [];
      for (const topic of this.#topics.topics()) {
        const unclean = effectiveTopicConfig(topic.configs)['unclean.leader.election.enable'] === 'true';
        for (const partition of topicPartitions(this.#store, topic)) {
          if (!partition.isr.includes(spuId) && partition.leader !== spuId) continue;
          const next = electAfterLoss(partition, others, unclean);
          if (next === undefined) continue;
          writes.push(this.#write(next));
          this.#logger.info('restarted SPU fenced', {
            spu: spuId,
            topic: topic.name,
            partition: partition.partition,
            leader: next.leader,
            leaderEpoch: next.leaderEpoch,
            isr: next.isr,
          });
        }
      }
      if (writes.length === 0) return;
      await this.#store.commit(writes);
      this.#onChange();
    });
  }

  /** AlterPartition from a leader SPU: validates and applies each proposed ISR. */
  alterPartition(request: AlterPartitionRequest, version: number): Promise<AlterPartitionResponse> {
    return this.#topics.exclusive(async () => {
      if (!this.#spus.isCurrent(request.brokerId, Number(request.brokerEpoch)))
        return createAlterPartitionResponse({ errorCode: errorCodes.STALE_BROKER_EPOCH });
      const writes: MetadataWrite[] = [];
      const topics = request.topics.map((data) => {
        const topic = this.#findTopic(data, version);
        return createAlterPartitionResponseTopicData({
          topicName: data.topicName,
          topicId: data.topicId,
          partitions: data.partitions.map((proposal) =>
            this.#decide(request.brokerId, topic, proposal, version, writes),
          ),
        });
      });
      if (writes.length > 0) {
        await this.#store.commit(writes);
        this.#onChange();
      }
      return createAlterPartitionResponse({ topics });
    });
  }

  #decide(
    brokerId: number,
    topic: TopicRecord | undefined,
    proposal: AlterPartitionRequestTopicData['partitions'][number],
    version: number,
    writes: MetadataWrite[],
  ): AlterPartitionResponsePartitionData {
    const failed = (errorCode: number) =>
      createAlterPartitionResponsePartitionData({
        partitionIndex: proposal.partitionIndex,
        errorCode,
        leaderId: noLeader,
        leaderEpoch: -1,
        partitionEpoch: -1,
      });
    if (topic === undefined)
      return failed(version >= 2 ? errorCodes.UNKNOWN_TOPIC_ID : errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
    const key = partitionKey(topic.name, proposal.partitionIndex);
    const partition = this.#store.get<PartitionRecord>('partitions', key)?.value;
    if (partition === undefined) return failed(errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
    // v3 names each ISR member with its broker epoch: a member that registered again since is not
    // the replica the leader saw catch up.
    const staleMember =
      version >= 3 &&
      proposal.newIsrWithEpochs.some(
        (member) =>
          member.brokerEpoch !== -1n && !this.#spus.isCurrent(member.brokerId, Number(member.brokerEpoch)),
      );
    if (staleMember) return failed(errorCodes.INELIGIBLE_REPLICA);
    const newIsr =
      version >= 3 ? proposal.newIsrWithEpochs.map((member) => member.brokerId) : proposal.newIsr;
    const decision = decideIsr(
      partition,
      { brokerId, leaderEpoch: proposal.leaderEpoch, partitionEpoch: proposal.partitionEpoch, newIsr },
      (id) => this.#spus.isOnline(id),
    );
    if (!('record' in decision)) {
      this.#logger.info('ISR change refused', {
        topic: topic.name,
        partition: partition.partition,
        reason: decision.message,
      });
      return failed(decision.errorCode);
    }
    const { record } = decision;
    if (decision.changed) {
      writes.push(this.#write(record));
      this.#logger.info('ISR changed', {
        topic: topic.name,
        partition: partition.partition,
        isr: record.isr,
        partitionEpoch: record.partitionEpoch,
      });
    }
    return createAlterPartitionResponsePartitionData({
      partitionIndex: record.partition,
      errorCode: errorCodes.NONE,
      leaderId: record.leader,
      leaderEpoch: record.leaderEpoch,
      isr: [...record.isr],
      partitionEpoch: record.partitionEpoch,
    });
  }

  #findTopic(data: AlterPartitionRequestTopicData, version: number): TopicRecord | undefined {
    if (version < 2) return this.#topics.topic(data.topicName);
    const id = data.topicId.toString('hex');
    return this.#topics.topics().find((topic) => topic.topicId === id);
  }

  #write(record: PartitionRecord): MetadataWrite {
    const key = partitionKey(record.topic, record.partition);
    return {
      kind: 'partitions',
      key,
      value: record,
      expectedRevision: this.#store.get('partitions', key)?.revision ?? 0,
    };
  }

  /** Online, or (during the grace after the SC start) not seen going offline by this process. */
  #presumedOnline(): IsOnline {
    const inGrace = this.#clock.monotonicMs() < this.#graceEndMs;
    return (id) => this.#spus.isOnline(id) || (inGrace && !this.#gone.has(id));
  }
}

function sameReplicas(a: PartitionRecord, b: PartitionRecord): boolean {
  return a.replicas.length === b.replicas.length && a.replicas.every((id, index) => b.replicas[index] === id);
}
