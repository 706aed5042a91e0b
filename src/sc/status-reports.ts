import type { SpuStatusRequestPartition } from '../protocol/messages/spu-status.ts';

/** The latest SpuStatus report of each SPU, memory only (SPUs report every few seconds). */
export class StatusReports {
  readonly #bySpu = new Map<number, Map<string, SpuStatusRequestPartition>>();

  record(spuId: number, partitions: readonly SpuStatusRequestPartition[]): void {
    this.#bySpu.set(spuId, new Map(partitions.map((p) => [`${p.topic}/${p.partition}`, p])));
  }

  get(spuId: number, topic: string, partition: number): SpuStatusRequestPartition | undefined {
    return this.#bySpu.get(spuId)?.get(`${topic}/${partition}`);
  }
}
