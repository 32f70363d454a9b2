import { UnrecoverableError } from 'bullmq';
import type { z } from 'zod';
import { PayloadError, parsePayload } from './schemas.js';

/** Validates a job's data; a bad payload fails the job at once (no retry can fix it). */
export function jobPayload<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  try {
    return parsePayload(schema, data, what);
  } catch (err) {
    if (err instanceof PayloadError) throw new UnrecoverableError(err.message);
    throw err;
  }
}
