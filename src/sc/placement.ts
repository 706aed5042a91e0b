/**
 * Replica placement: which SPUs hold each partition of a topic, leader first.
 *
 * The SPUs are put in one order (by id; with racks, alternating between racks so that neighbours in
 * the order sit in different racks), and partition p of a topic gets the `replicationFactor` SPUs
 * that follow position start + p in that order. Leaders therefore go round-robin over every SPU (12
 * partitions over 3 SPUs: 4 leaders each), the replicas of one partition are distinct SPUs, and with
 * racks each partition spans as many racks as it can. `start` comes from a hash of the topic name, so
 * topics do not all lead on the same SPU and the same input always gives the same placement.
 */

export interface PlacementSpu {
  readonly id: number;
  readonly rack: string | null;
}

export interface PlacementRequest {
  readonly topic: string;
  /** Index of the first partition to place (partitions added to an existing topic continue). */
  readonly firstPartition: number;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly spus: readonly PlacementSpu[];
}

/**
 * Replicas for partitions firstPartition..firstPartition+partitions-1, or undefined when there are
 * fewer SPUs than the replication factor.
 */
export function placeReplicas(request: PlacementRequest): number[][] | undefined {
  const order = placementOrder(request.spus);
  const { replicationFactor } = request;
  if (replicationFactor < 1 || order.length < replicationFactor) return undefined;
  const start = nameHash(request.topic) % order.length;
  const placed: number[][] = [];
  for (let index = 0; index < request.partitions; index++) {
    const partition = request.firstPartition + index;
    const replicas: number[] = [];
    for (let copy = 0; copy < replicationFactor; copy++) {
      replicas.push(order[(start + partition + copy) % order.length]!);
    }
    placed.push(replicas);
  }
  return placed;
}

/** SPU ids by id; with racks, taking one SPU from each rack in turn (racks by name, SPUs by id). */
export function placementOrder(spus: readonly PlacementSpu[]): number[] {
  const sorted = [...spus].sort((a, b) => a.id - b.id);
  if (sorted.every((spu) => spu.rack === null)) return sorted.map((spu) => spu.id);
  const racks = new Map<string, number[]>();
  for (const spu of sorted) {
    // SPUs without a rack form a rack of their own.
    const rack = spu.rack ?? '';
    racks.set(rack, [...(racks.get(rack) ?? []), spu.id]);
  }
  const columns = [...racks.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ids]) => ids);
  const order: number[] = [];
  for (let row = 0; order.length < sorted.length; row++) {
    for (const ids of columns) if (row < ids.length) order.push(ids[row]!);
  }
  return order;
}

/** FNV-1a over the name's UTF-16 code units: small, stable across processes and versions. */
export function nameHash(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
