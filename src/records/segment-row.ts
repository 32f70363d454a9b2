import { z } from 'zod';
import { knobsLabel, type KnobsLabel } from '../knobs/encode.js';
import { knobsLabelSchema } from './knobs.js';
import { resultJobSchema, type ResultJob } from './segment-result.js';

/** The result fields a report row keeps as they came. */
const KEPT = {
  seq: true, knobVersion: true, bytes: true, frames: true, slots: true, detections: true, proxy: true, f1: true,
  decodeMs: true, inferMs: true, gradMs: true, encodeMs: true, probeMs: true, gradients: true, error: true,
  auditF1: true, auditBytes: true,
} as const;

/**
 * One segment as the coordinator recorded it: a row of the stream's report. The result's
 * figures, with the knobs as a report shows them and the reference bytes (audited segments).
 */
export type SegmentRow = Pick<ResultJob, keyof typeof KEPT> & { knobs: KnobsLabel; refBytes: number | null };

export const segmentRowSchema = resultJobSchema.pick(KEPT).extend({
  knobs: knobsLabelSchema,
  refBytes: z.number().int().min(0).nullable(),
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
    ...(r.auditBytes !== undefined ? { auditBytes: r.auditBytes, auditF1: r.auditF1 ?? null } : {}),
    ...(r.gradients ? { gradients: r.gradients } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}
