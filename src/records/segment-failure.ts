import { z } from 'zod';
import { streamIdSchema } from './stream-id.js';

/**
 * A segment that will never have a full result: its job failed for good (bad payload, retries
 * exhausted, stalled too often). Enough to attribute it, so that the stream records an error
 * row for it and goes on instead of waiting for a result that will not come.
 */
export interface SegmentFailure {
  streamId: string;
  seq: number;
  error: string;
}

export const segmentFailureSchema = z.object({
  streamId: streamIdSchema,
  seq: z.number().int().min(0),
  error: z.string().min(1),
}) satisfies z.ZodType<SegmentFailure>;

/** Which stream and segment a payload is about, when it says so validly (even if the rest is bad). */
export function attributionOf(data: unknown): { streamId: string; seq: number } | undefined {
  const r = segmentFailureSchema.pick({ streamId: true, seq: true }).safeParse(data);
  return r.success ? r.data : undefined;
}
