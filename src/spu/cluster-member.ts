import type { Logger } from '../base/logger.ts';
import type { AlterConfigsRequest, AlterConfigsResponse } from '../protocol/messages/alter-configs.ts';
import {
  createAlterConfigsResponse,
  createAlterConfigsResponseResourceResponse,
} from '../protocol/messages/alter-configs.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import {
  createLeaderAndIsrResponse,
  createLeaderAndIsrResponsePartitionError,
  createLeaderAndIsrResponseTopicError,
  type LeaderAndIsrRequest,
  type LeaderAndIsrRequestPartitionState,
  type LeaderAndIsrResponse,
  type LeaderAndIsrResponsePartitionError,
} from '../protocol/messages/leader-and-isr.ts';
import {
  createSpuStatusRequestFollower,
  type SpuStatusRequestFollower,
} from '../protocol/messages/spu-status.ts';
import {
  createStopReplicaResponse,
  createStopReplicaResponsePartitionError,
  type StopReplicaRequest,
  type StopReplicaResponse,
} from '../protocol/messages/stop-replica.ts';
import type { UpdateMetadataRequest } from '../protocol/messages/update-metadata.ts';
import { logConfigDefaults, resolveLogConfig } from '../storage/config.ts';
import type { ClusterState } from './cluster-state.ts';
import { resourceTypes } from './config-resources.ts';
import { logConfigFromTopic, type Partition, type PartitionManager } from './partitions.ts';
import { partitionFailure } from './storage-errors.ts';

/** The connection a push arrived on (net/server.ts ConnectionContext). */
export interface PushSource {
  readonly id: number;
  readonly closed: AbortSignal;
}

export const clusterMemberDefaults = Object.freeze({
  // ms a push naming a newer broker epoch waits for the registration answer: that answer is one
  // round trip behind the push, so this is the SC link's request timeout, not a guess at latency.
  registrationWaitMsMax: 5000,
  // Partitions whose logs open at once in a LeaderAndIsr: enough to overlap the file I/O of
  // opening (a few files each), few enough that one chunk's work is a few ms of the event loop and
  // its open files and buffers stay small next to the SPU's.
  leaderAndIsrChunkPartitions: 32,
});

/** LeaderAndIsr `type`: FULL lists every partition the SPU replicates; INCREMENTAL only changes. */
const leaderAndIsrTypes = Object.freeze({ incremental: 0, full: 1 });

/**
 * An SPU's part in a cluster: applies what the SC pushes (docs/CONTROL-PLANE.md) to the cluster
 * state and the partitions, with the fencing rules. Every push with epochs (UpdateMetadata,
 * LeaderAndIsr, StopReplica) must name this SPU's current registration, its broker epoch exactly
 * (STALE_BROKER_EPOCH otherwise, also for -1 or any other made-up value); a newer one waits, a bounded
 * time, for the registration answer still on its way (the SC may push before this SPU has read it).
 * Only then is the controller epoch compared: older than the newest seen means a deposed SC
 * (STALE_CONTROLLER_EPOCH). So a push that names no registration of this SPU can neither act nor raise
 * the controller epoch, which would make the real SC's pushes look stale. Within a push, a partition
 * state with an older leader epoch than the partition's is ignored.
 *
 * Epochs fence stale pushes; they do not authenticate the sender. What keeps strangers off this
 * channel is the internal listener binding to loopback unless told otherwise (SpuConfig.internalHost)
 * and, later, authentication of the connection, which would sit in front of these checks.
 */
export class ClusterMember {
  readonly selfId: number;
  readonly state: ClusterState;
  readonly #partitions: PartitionManager;
  readonly #brokerEpoch: () => bigint;
  readonly #brokerEpochAtLeast: (epoch: bigint, timeoutMs: number) => Promise<bigint>;
  readonly #logger: Logger;
  readonly #nowMs: () => number;
  /** Called after every LeaderAndIsr and StopReplica: the follower fetchers follow the new roles. */
  readonly #onRolesChanged: () => void;
  /** Connections that delivered a push passing the fencing checks, and others' staged configs. */
  readonly #provenSources = new Set<number>();
  readonly #stagedConfigs = new Map<number, Map<string, Record<string, string>>>();
  /** Pushes are applied one at a time, in arrival order, so that each sees the previous one's effect. */
  #applying: Promise<unknown> = Promise.resolve();

  constructor(options: {
    selfId: number;
    state: ClusterState;
    partitions: PartitionManager;
    /** This SPU's current broker epoch (-1 before its first registration). */
    brokerEpoch: () => bigint;
    /**
     * Resolves with the broker epoch once it is at least the given one, or as it is after the wait
     * (ControllerLink.brokerEpochAtLeast); without it a newer epoch is never waited for.
     */
    brokerEpochAtLeast?: (epoch: bigint, timeoutMs: number) => Promise<bigint>;
    logger: Logger;
    /** Monotonic time, for the followers' lag clocks. */
    nowMs?: () => number;
    onRolesChanged?: () => void;
  }) {
    this.selfId = options.selfId;
    this.state = options.state;
    this.#partitions = options.partitions;
    this.#brokerEpoch = options.brokerEpoch;
    const current = options.brokerEpoch;
    this.#brokerEpochAtLeast = options.brokerEpochAtLeast ?? (async () => current());
    this.#logger = options.logger;
    this.#nowMs = options.nowMs ?? (() => performance.now());
    this.#onRolesChanged = options.onRolesChanged ?? (() => undefined);
  }

  /** Why a push stamped with these epochs must be ignored (an error code), or undefined. */
  async fencing(controllerEpoch: number, brokerEpoch: bigint): Promise<number | undefined> {
    let own = this.#brokerEpoch();
    if (brokerEpoch > own)
      own = await this.#brokerEpochAtLeast(brokerEpoch, clusterMemberDefaults.registrationWaitMsMax);
    if (brokerEpoch < 0n || brokerEpoch !== own) return errorCodes.STALE_BROKER_EPOCH;
    if (controllerEpoch < this.state.controllerEpoch) return errorCodes.STALE_CONTROLLER_EPOCH;
    this.state.controllerEpoch = controllerEpoch;
    return undefined;
  }

  /**
   * AlterConfigs from the SC: each topic's configs, replacing what the SPU had. Each topic stands
   * alone: configs the log cannot take (INVALID_CONFIG) leave that topic on its last good configs,
   * so its partitions keep serving and still open after a restart, and the other topics apply.
   *
   * AlterConfigs carries no epochs, so configs from a connection (`from`) that has not yet delivered
   * an UpdateMetadata passing the fencing checks are only staged: the SC sends UpdateMetadata right
   * after them on the same connection, and they apply then. A stranger's configs (retention.ms=1
   * would delete data) never apply. Without `from` (a caller inside the SPU) they apply at once.
   */
  applyTopicConfigs(request: AlterConfigsRequest, from?: PushSource): AlterConfigsResponse {
    const proven = from === undefined || this.#provenSources.has(from.id);
    const staged = new Map<string, Record<string, string>>();
    const responses = request.resources.map((resource) => {
      const checked =
        resource.resourceType === resourceTypes.TOPIC
          ? this.#checkTopicConfig(resource.resourceName, resource.configs)
          : { errorCode: errorCodes.INVALID_REQUEST, errorMessage: 'the SC pushes topic configs only' };
      if ('configs' in checked) {
        if (proven) this.#commitTopicConfig(resource.resourceName, checked.configs);
        else staged.set(resource.resourceName, checked.configs);
      }
      const refusal = 'configs' in checked ? undefined : checked;
      return createAlterConfigsResponseResourceResponse({
        errorCode: refusal?.errorCode ?? errorCodes.NONE,
        errorMessage: refusal?.errorMessage ?? null,
        resourceType: resource.resourceType,
        resourceName: resource.resourceName,
      });
    });
    if (!proven && from !== undefined) this.#stage(from, staged);
    return createAlterConfigsResponse({ responses });
  }

  /** Keeps one connection's unproven configs (the latest push only) until it proves itself or closes. */
  #stage(from: PushSource, configs: Map<string, Record<string, string>>): void {
    if (!this.#stagedConfigs.has(from.id))
      from.closed.addEventListener('abort', () => this.#forget(from.id), { once: true });
    this.#stagedConfigs.set(from.id, configs);
  }

  #forget(sourceId: number): void {
    this.#stagedConfigs.delete(sourceId);
    this.#provenSources.delete(sourceId);
  }

  /** A push from `from` passed the fencing checks: its staged configs apply, later ones at once. */
  #prove(from: PushSource | undefined): void {
    if (from === undefined || this.#provenSources.has(from.id) || from.closed.aborted) return;
    const staged = this.#stagedConfigs.get(from.id);
    this.#stagedConfigs.delete(from.id);
    for (const [topic, configs] of staged ?? []) this.#commitTopicConfig(topic, configs);
    if (staged === undefined)
      from.closed.addEventListener('abort', () => this.#forget(from.id), { once: true });
    this.#provenSources.add(from.id);
  }

  #checkTopicConfig(
    topic: string,
    pushed: readonly { readonly name: string; readonly value: string | null }[],
  ): { configs: Record<string, string> } | { errorCode: number; errorMessage: string } {
    const configs: Record<string, string> = {};
    for (const { name, value } of pushed) if (value !== null) configs[name] = value;
    try {
      // The same check the log makes when it opens: what passes here opens after a restart too.
      resolveLogConfig(logConfigDefaults, logConfigFromTopic(configs));
      return { configs };
    } catch (error) {
      const errorMessage = error instanceof Error ? error.message : String(error);
      this.#logger.warn('pushed topic configs refused; the topic keeps its previous ones', {
        topic,
        error: errorMessage,
      });
      return { errorCode: errorCodes.INVALID_CONFIG, errorMessage };
    }
  }

  #commitTopicConfig(topic: string, configs: Record<string, string>): void {
    this.#partitions.applyConfigs(topic, configs);
    this.state.setConfigs(topic, configs);
  }

  /** UpdateMetadata from the SC: the live SPUs and every topic's partitions. */
  applyMetadata(request: UpdateMetadataRequest, from?: PushSource): Promise<number> {
    return this.#serial(async () => {
      const fenced = await this.fencing(request.controllerEpoch, request.brokerEpoch);
      if (fenced === undefined) this.#prove(from);
      if (fenced !== undefined) {
        this.#logger.warn('stale metadata push ignored', {
          controllerEpoch: request.controllerEpoch,
          brokerEpoch: request.brokerEpoch,
        });
        return fenced;
      }
      this.state.applyMetadata(request);
      return errorCodes.NONE;
    });
  }

  /** LeaderAndIsr from the SC: open the listed partitions and lead or follow each. */
  leaderAndIsr(request: LeaderAndIsrRequest): Promise<LeaderAndIsrResponse> {
    return this.#serial(async () => {
      const fenced = await this.fencing(request.controllerEpoch, request.brokerEpoch);
      if (fenced !== undefined) return createLeaderAndIsrResponse({ errorCode: fenced });
      const listed = new Set<string>();
      const all: LeaderAndIsrResponsePartitionError[] = [];
      const topics = [];
      for (const topic of request.topicStates) {
        for (const state of topic.partitionStates)
          listed.add(`${topic.topicName}\u0000${state.partitionIndex}`);
        const partitionErrors = await this.#becomeReplicas(topic.topicName, topic.partitionStates);
        all.push(...partitionErrors);
        topics.push(createLeaderAndIsrResponseTopicError({ topicId: topic.topicId, partitionErrors }));
      }
      // A full list means that partitions missing from it are no longer this SPU's to serve.
      if (request.type === leaderAndIsrTypes.full) {
        for (const partition of this.#partitions.list()) {
          if (listed.has(`${partition.topic}\u0000${partition.index}`) || !partition.leading) continue;
          partition.setRole({ leading: false, leaderEpoch: partition.leaderEpoch });
        }
      }
      this.#onRolesChanged();
      // v4 answers in partitionErrors, v5+ in topics; each version encodes only its own field.
      return createLeaderAndIsrResponse({ errorCode: errorCodes.NONE, partitionErrors: all, topics });
    });
  }

  /**
   * Takes the roles of one topic's partitions, `leaderAndIsrChunkPartitions` at a time: their logs
   * open in parallel (file I/O overlaps), and the event loop turns between chunks, so heartbeats and
   * client requests keep flowing while thousands of partitions open after a restart.
   */
  async #becomeReplicas(
    topic: string,
    states: readonly LeaderAndIsrRequestPartitionState[],
  ): Promise<LeaderAndIsrResponsePartitionError[]> {
    const errors: LeaderAndIsrResponsePartitionError[] = [];
    const chunk = clusterMemberDefaults.leaderAndIsrChunkPartitions;
    for (let start = 0; start < states.length; start += chunk) {
      const slice = states.slice(start, start + chunk);
      const codes = await Promise.all(slice.map((state) => this.#becomeReplica(topic, state)));
      for (const [index, state] of slice.entries()) {
        const errorCode = codes[index]!;
        const partitionIndex = state.partitionIndex;
        errors.push(
          createLeaderAndIsrResponsePartitionError({ topicName: topic, partitionIndex, errorCode }),
        );
      }
      if (start + chunk < states.length) await new Promise((resolve) => setImmediate(resolve));
    }
    return errors;
  }

  async #becomeReplica(topic: string, state: LeaderAndIsrRequestPartitionState): Promise<number> {
    const existing = this.#partitions.get(topic, state.partitionIndex);
    if (existing !== undefined && state.leaderEpoch < existing.leaderEpoch) {
      this.#logger.warn('stale partition state ignored', {
        topic,
        partition: state.partitionIndex,
        leaderEpoch: state.leaderEpoch,
        currentLeaderEpoch: existing.leaderEpoch,
      });
      return errorCodes.STALE_CONTROLLER_EPOCH;
    }
    try {
      const partition =
        existing ??
        (await this.#partitions.open(topic, state.partitionIndex, {
          configs: this.state.configsOf(topic),
          leaderEpoch: state.leaderEpoch,
          selfId: this.selfId,
        }));
      const leading = state.leader === this.selfId;
      const changed = partition.leading !== leading || partition.leaderEpoch !== state.leaderEpoch;
      const assignment = {
        leaderId: state.leader,
        replicas: state.replicas,
        isr: state.isr,
        partitionEpoch: state.partitionEpoch,
      };
      if (existing === undefined || changed) {
        partition.setRole({ leading, leaderEpoch: state.leaderEpoch });
        this.#logger.info(leading ? 'leading partition' : 'following partition', {
          topic,
          partition: state.partitionIndex,
          leaderEpoch: state.leaderEpoch,
          leader: state.leader,
        });
      }
      partition.assignReplicas(assignment, existing === undefined || changed, this.#nowMs());
      return errorCodes.NONE;
    } catch (error) {
      const api = 'leaderAndIsr';
      return partitionFailure(error, this.#logger, { topic, partition: state.partitionIndex, api }).errorCode;
    }
  }

  /** StopReplica from the SC: stop serving the partitions, deleting their logs when asked. */
  stopReplicas(request: StopReplicaRequest): Promise<StopReplicaResponse> {
    return this.#serial(async () => {
      const fenced = await this.fencing(request.controllerEpoch, request.brokerEpoch);
      if (fenced !== undefined) {
        this.#logger.warn('stale replica removal ignored', {
          controllerEpoch: request.controllerEpoch,
          brokerEpoch: request.brokerEpoch,
        });
        return createStopReplicaResponse({ errorCode: fenced });
      }
      const partitionErrors = [];
      for (const { topic, partition, leaderEpoch, deletePartition } of stopList(request)) {
        const errorCode = await this.#stopReplica(topic, partition, leaderEpoch, deletePartition);
        partitionErrors.push(
          createStopReplicaResponsePartitionError({ topicName: topic, partitionIndex: partition, errorCode }),
        );
      }
      this.#onRolesChanged();
      return createStopReplicaResponse({ errorCode: errorCodes.NONE, partitionErrors });
    });
  }

  async #stopReplica(
    topic: string,
    index: number,
    leaderEpoch: number,
    deletePartition: boolean,
  ): Promise<number> {
    const existing = this.#partitions.get(topic, index);
    // A negative epoch means "whatever the epoch" (deletion of a topic); otherwise older is stale.
    if (existing !== undefined && leaderEpoch >= 0 && leaderEpoch < existing.leaderEpoch)
      return errorCodes.FENCED_LEADER_EPOCH;
    try {
      if (deletePartition) await this.#partitions.remove(topic, index);
      else existing?.setRole({ leading: false, leaderEpoch: existing.leaderEpoch });
      return errorCodes.NONE;
    } catch (error) {
      return partitionFailure(error, this.#logger, { topic, partition: index, api: 'stopReplica' }).errorCode;
    }
  }

  #serial<T>(change: () => Promise<T>): Promise<T> {
    const next = this.#applying.catch(() => undefined).then(change);
    this.#applying = next;
    return next;
  }
}

/** The partitions a StopReplica names: per-partition states (v3+) or topic lists (v1-2). */
function stopList(
  request: StopReplicaRequest,
): Array<{ topic: string; partition: number; leaderEpoch: number; deletePartition: boolean }> {
  const fromStates = request.topicStates.flatMap((topic) =>
    topic.partitionStates.map((state) => ({
      topic: topic.topicName,
      partition: state.partitionIndex,
      leaderEpoch: state.leaderEpoch,
      deletePartition: state.deletePartition,
    })),
  );
  const fromTopics = request.topics.flatMap((topic) =>
    topic.partitionIndexes.map((partition) => ({
      topic: topic.name,
      partition,
      leaderEpoch: -1,
      deletePartition: request.deletePartitions,
    })),
  );
  return [...fromStates, ...fromTopics];
}

/**
 * What a leader knows of its followers' log ends (their last fetch offsets), for the SpuStatus report
 * the SC turns into per-replica lag. Empty when this SPU follows: only the leader sees both ends at
 * the same moment.
 */
export function followerLogEnds(partition: Partition): SpuStatusRequestFollower[] {
  if (!partition.leading) return [];
  const { replicaSet } = partition;
  return replicaSet.replicas
    .filter((id) => id !== replicaSet.selfId)
    .map((replicaId) =>
      createSpuStatusRequestFollower({ replicaId, logEndOffset: replicaSet.logEndOffsetOf(replicaId) }),
    );
}
