import { z } from 'zod';
import type { KnobSpaces } from '../knobs/space.js';
import { knobSpacesSchema } from './knobs.js';
import { streamIdSchema } from './stream-id.js';
import { fleetMembershipSchema, type FleetMembership } from './fleet.js';

/** Archived footage to run as a stream: one job per file, taken by the ingest role. */
export interface IngestJob {
  streamId: string;
  /** A local path the ingest can read, or s3://bucket/key in the configured store. */
  source: string;
  policy: string;
  model: string;
  spaces?: KnobSpaces;
  auditEvery?: number;
  probeEvery?: number;
  /** The fleet the stream joins. */
  fleet?: FleetMembership;
}

export const ingestJobSchema = z.object({
  streamId: streamIdSchema,
  source: z.string().min(1),
  policy: z.string().min(1),
  model: z.string().min(1),
  spaces: knobSpacesSchema.optional(),
  auditEvery: z.number().int().min(0).optional(),
  probeEvery: z.number().int().min(1).optional(),
  fleet: fleetMembershipSchema.optional(),
}) satisfies z.ZodType<IngestJob>;
