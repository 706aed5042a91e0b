import { apiKeys } from '../../protocol/messages/api-keys.ts';
import type { HandlerTable } from '../request-router.ts';
import { deleteRecordsHandler } from './delete-records.ts';
import { fetchHandler } from './fetch.ts';
import { listOffsetsHandler } from './list-offsets.ts';
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.ts';
import { produceHandler } from './produce.ts';

/** Produce, fetch and offset APIs (OffsetForLeaderEpoch serves followers and clients alike). */
export const dataPlaneHandlers: HandlerTable = {
  [apiKeys.Produce]: produceHandler,
  [apiKeys.Fetch]: fetchHandler,
  [apiKeys.ListOffsets]: listOffsetsHandler,
  [apiKeys.DeleteRecords]: deleteRecordsHandler,
  [apiKeys.OffsetForLeaderEpoch]: offsetForLeaderEpochHandler,
};
