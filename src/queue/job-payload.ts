import { UnrecoverableError } from 'bullmq';
import type { z } from 'zod';
import { isPermanent } from '../errors.js';
import { parsePayload } from '../records/parse.js';

/** Validates a job's data; a bad payload fails the job at once (no retry can fix it). */
export function jobPayload<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  try {
    return parsePayload(schema, data, `${what} payload`);
  } catch (err) {
    throw toJobError(err);
  }
}

/** A permanent error (src/errors) fails the job at once; any other is retried by BullMQ. */
export function toJobError(err: unknown): unknown {
  return isPermanent(err) ? new UnrecoverableError(err.message) : err;
}
