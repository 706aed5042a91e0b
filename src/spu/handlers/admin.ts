import type { HandlerTable } from '../request-router.ts';

/** Metadata and admin APIs. */
export const adminHandlers: HandlerTable = {};
