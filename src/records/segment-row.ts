import { z } from 'zod';
import type { KnobTerms } from '../adapt/accgrad.js';
import { knobsLabel, type KnobsLabel } from '../knobs/encode.js';
import { knobsLabelSchema, knobTermsSchema } from './knobs.js';
import type { ResultJob } from './segment-result.js';

/** One segment as the coordinator recorded it: a row of the stream's report. */
export interface SegmentRow {
  seq: number;
  knobs: KnobsLabel;
  knobVersion: number;
  bytes: number;
  frames: number;
  /** Analysis frames the segment spans. */
  slots: number;
  detections: number;
  proxy: number;
  f1: number | null;
  /** Bytes of the reference encode of the same frames (audited segments). */
  refBytes: number | null;
  decodeMs: number;
  inferMs: number;
  gradMs: number;
  encodeMs: number;
  probeMs: number;
  /** The segment's AccGrad terms per knob, when it was probed. */
  gradients?: KnobTerms[];
  error?: string;
}

export const segmentRowSchema = z.object({
  seq: z.number().int().min(0),
  knobs: knobsLabelSchema,
  knobVersion: z.number().int().min(0),
  bytes: z.number().int().min(0),
  frames: z.number().int().min(0),
  slots: z.number().int().positive(),
  detections: z.number().int().min(0),
  proxy: z.number(),
  f1: z.number().min(0).max(1).nullable(),
  refBytes: z.number().int().min(0).nullable(),
  decodeMs: z.number().min(0),
  inferMs: z.number().min(0),
  gradMs: z.number().min(0),
  encodeMs: z.number().min(0),
  probeMs: z.number().min(0),
  gradients: z.array(knobTermsSchema).optional(),
  error: z.string().optional(),
}) satisfies z.ZodType<SegmentRow>;

export function rowOf(r: ResultJob): SegmentRow {
  return {
    seq: r.seq,
    knobs: knobsLabel(r.knobs),
    knobVersion: r.knobVersion,
    bytes: r.bytes,
    frames: r.frames,
    slots: r.slots,
    detections: r.detections,
    proxy: r.proxy,
    f1: r.f1,
    refBytes: r.refBytes ?? null,
    decodeMs: r.decodeMs,
    inferMs: r.inferMs,
    gradMs: r.gradMs,
    encodeMs: r.encodeMs,
    probeMs: r.probeMs,
    ...(r.gradients ? { gradients: r.gradients } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}
