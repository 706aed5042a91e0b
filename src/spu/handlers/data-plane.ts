import type { HandlerTable } from '../request-router.ts';

/** Produce, fetch and offset APIs. */
export const dataPlaneHandlers: HandlerTable = {};
