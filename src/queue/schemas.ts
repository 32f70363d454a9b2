import { z } from 'zod';

/** Stream ids become Redis keys, S3 keys and BullMQ job ids: keep them plain. */
export const streamIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'letters, digits, . _ - (at most 128)');

export const encodedKnobsSchema = z.object({
  qp: z.number().int().min(0).max(51),
  resolution: z.number().positive().max(1),
  fps: z.number().positive(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** QP offset outside the region of interest (0 = one QP everywhere). */
  roi: z.number().int().min(0).max(51).default(0),
  /** The region of interest as a macroblock bitset (knobs/roi), when the stream has one. */
  roiMask: z.string().max(100_000).optional(),
});
export type EncodedKnobs = z.infer<typeof encodedKnobsSchema>;

/** Per-knob InputGrad probe summary the ingest uploads beside a segment (see adapt/probe). */
export const segmentJobSchema = z.object({
  streamId: streamIdSchema,
  seq: z.number().int().min(0),
  segmentKey: z.string().min(1),
  /** Reference-quality encode of the same frames, present on accuracy-audit segments. */
  auditKey: z.string().min(1).optional(),
  auditBytes: z.number().int().min(0).optional(),
  probeKey: z.string().min(1).optional(),
  knobs: encodedKnobsSchema,
  knobVersion: z.number().int().min(0),
  sourceWidth: z.number().int().positive(),
  sourceHeight: z.number().int().positive(),
  /** Analysis frames the segment spans (segment seconds × analysis fps). */
  slots: z.number().int().positive(),
  /** Frames the encoded segment holds (fewer than slots at a lower frame rate). */
  frames: z.number().int().positive().optional(),
  bytes: z.number().int().min(0),
  encodeMs: z.number().min(0),
  probeMs: z.number().min(0),
});
export type SegmentJob = z.infer<typeof segmentJobSchema>;

export const knobGradientSchema = z.object({
  knob: z.string(),
  /** (1/N) Σ S·D for the current (HQ) and one-step-cheaper (LQ) encodes. */
  recHq: z.number(),
  recLq: z.number(),
  /** Bytes relative to the reference encode. */
  bwHq: z.number(),
  bwLq: z.number(),
  /** Frames inferred per second of video, relative to the reference frame rate. */
  gpuHq: z.number(),
  gpuLq: z.number(),
});
export type KnobGradient = z.infer<typeof knobGradientSchema>;

export const resultJobSchema = z.object({
  streamId: streamIdSchema,
  seq: z.number().int().min(0),
  knobs: encodedKnobsSchema,
  knobVersion: z.number().int().min(0),
  bytes: z.number().int().min(0),
  frames: z.number().int().min(0),
  slots: z.number().int().positive(),
  detections: z.number().int().min(0),
  proxy: z.number(),
  decodeMs: z.number().min(0),
  inferMs: z.number().min(0),
  gradMs: z.number().min(0),
  encodeMs: z.number().min(0),
  probeMs: z.number().min(0),
  /** Mean per-frame F1 against the reference encode, on audit segments. */
  f1: z.number().min(0).max(1).nullable(),
  /** Bytes of the reference encode, on audit segments. */
  refBytes: z.number().int().min(0).nullable().optional(),
  gradients: z.array(knobGradientSchema).optional(),
  /** Where the segment's objects of interest were (knobs/roi wire form, source macroblocks). */
  roiMask: z.string().max(100_000).optional(),
  resultKey: z.string().optional(),
  /** Why the segment could not be processed; the stream goes on without it. */
  error: z.string().optional(),
});
export type ResultJob = z.infer<typeof resultJobSchema>;

export class PayloadError extends Error {
  override name = 'PayloadError';
}

/** Validates a job payload; the error says which fields were wrong and how. */
export function parsePayload<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new PayloadError(`invalid ${what} payload: ${issues}`);
}
