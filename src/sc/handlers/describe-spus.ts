import {
  createDescribeSpusResponse,
  createDescribeSpusResponseSpu,
  type DescribeSpusRequest,
  type DescribeSpusResponse,
} from '../../protocol/messages/describe-spus.ts';
import type { PartitionRecord } from '../topic-records.ts';
import type { ScHandler } from './services.ts';

/** DescribeSpus: the registered SPUs (all, or those asked for), whether online and how many partitions each leads. */
export const describeSpusHandler: ScHandler<DescribeSpusRequest, DescribeSpusResponse> = async (
  request,
  _context,
  { store, spus },
) => {
  const wanted = request.spuIds === null ? undefined : new Set(request.spuIds);
  const led = new Map<number, number>();
  for (const { value } of store.list<PartitionRecord>('partitions'))
    led.set(value.leader, (led.get(value.leader) ?? 0) + 1);
  return createDescribeSpusResponse({
    spus: spus
      .list()
      .filter((spu) => wanted === undefined || wanted.has(spu.id))
      .map((spu) =>
        createDescribeSpusResponseSpu({
          spuId: spu.id,
          host: spu.host,
          port: spu.port,
          rack: spu.rack,
          online: spus.isOnline(spu.id),
          partitionsLed: led.get(spu.id) ?? 0,
          internalHost: spu.internalHost,
          internalPort: spu.internalPort,
        }),
      ),
  });
};
