import { z } from 'zod';
import type { KnobTerms } from '../adapt/accgrad.js';
import type { EncodedKnobs, KnobsLabel } from '../knobs/encode.js';
import { KNOB_NAMES, type KnobName, type KnobSpaces } from '../knobs/space.js';

// Wire forms of the knob records; the types are the domain's (knobs/encode, adapt/accgrad).

/**
 * The largest frame side any record may name: 8K (7680×4320) with room to spare. A payload
 * saying `sourceWidth: 1e6` would otherwise size buffers and grids by it.
 */
export const MAX_FRAME_SIDE = 8192;
export const frameSideSchema = z.number().int().positive().max(MAX_FRAME_SIDE);

export const knobNameSchema = z.enum(KNOB_NAMES as [KnobName, ...KnobName[]]);

export const encodedKnobsSchema = z.object({
  qp: z.number().int().min(0).max(51),
  resolution: z.number().positive().max(1),
  fps: z.number().positive().max(60),
  width: frameSideSchema,
  height: frameSideSchema,
  roi: z.number().int().min(0).max(51).default(0),
  roiMask: z.string().max(100_000).optional(),
  audit: z.literal(true).optional(),
}) satisfies z.ZodType<EncodedKnobs>;

export const knobsLabelSchema = z.object({
  qp: z.number(),
  resolution: z.string(),
  fps: z.number(),
  roi: z.number(),
}) satisfies z.ZodType<KnobsLabel>;

export const knobTermsSchema = z.object({
  knob: knobNameSchema,
  recHq: z.number(),
  recLq: z.number(),
  bwHq: z.number(),
  bwLq: z.number(),
  gpuHq: z.number(),
  gpuLq: z.number(),
  recRef: z.number().optional(),
}) satisfies z.ZodType<KnobTerms>;

const ladder = z.array(z.number()).min(1).readonly();

export const knobSpacesSchema = z.object({ qp: ladder, resolution: ladder, fps: ladder, roi: ladder }) satisfies z.ZodType<KnobSpaces>;
