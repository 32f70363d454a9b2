import { z } from 'zod';
import type { EncodedKnobs } from '../knobs/encode.js';
import type { KnobSpaces } from '../knobs/space.js';
import { encodedKnobsSchema, knobSpacesSchema, frameSideSchema } from './knobs.js';
import { fleetMembershipSchema, type FleetMembership } from './fleet.js';
import { streamIdSchema } from './stream-id.js';

/** What a stream is: registered once by whoever starts it, read by every role. */
export interface StreamMeta {
  streamId: string;
  source: string;
  sourceWidth: number;
  sourceHeight: number;
  /** Policy spec, e.g. `oneadapt` or `fixed:qp=28`. */
  policy: string;
  model: string;
  segmentSeconds: number;
  analysisFps: number;
  /** The stream's knob ladders; every path that starts a stream stores them. */
  spaces: KnobSpaces;
  /** Segments a file is expected to give, from its probed duration (an estimate; none for live sources). */
  expectedSegments?: number;
  /** Set once the ingest has cut the whole source. */
  totalSegments?: number;
  /** The fleet the stream belongs to (its budget and price are shared; src/adapt/fleet-price.ts). */
  fleet?: FleetMembership;
}

/** A versioned knob update: applies from segment `validFromSeq` on, never to an encoded one. */
export interface KnobUpdate {
  streamId: string;
  version: number;
  validFromSeq: number;
  knobs: EncodedKnobs;
}

/** An update as the stream's history keeps it: also which result caused it. */
export interface KnobUpdateRecord extends KnobUpdate {
  afterSeq: number;
}

export const streamMetaSchema = z.object({
  streamId: streamIdSchema,
  source: z.string().min(1),
  sourceWidth: frameSideSchema,
  sourceHeight: frameSideSchema,
  policy: z.string().min(1),
  model: z.string().min(1),
  segmentSeconds: z.number().positive(),
  analysisFps: z.number().positive(),
  spaces: knobSpacesSchema,
  expectedSegments: z.number().int().min(0).optional(),
  totalSegments: z.number().int().min(0).optional(),
  fleet: fleetMembershipSchema.optional(),
}) satisfies z.ZodType<StreamMeta>;

export const knobUpdateRecordSchema = z.object({
  streamId: streamIdSchema,
  version: z.number().int().min(1),
  validFromSeq: z.number().int().min(0),
  afterSeq: z.number().int().min(0),
  knobs: encodedKnobsSchema,
}) satisfies z.ZodType<KnobUpdateRecord>;
