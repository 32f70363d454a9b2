import { z } from 'zod';
import type { KnobTerms } from '../adapt/accgrad.js';
import type { EncodedKnobs } from '../knobs/encode.js';
import type { SegmentJob } from './segment-job.js';
import { encodedKnobsSchema, knobTermsSchema } from './knobs.js';
import { streamIdSchema } from './stream-id.js';

/** Inference worker → coordinator: what one segment showed (or why it could not be analysed). */
export interface ResultJob {
  streamId: string;
  seq: number;
  knobs: EncodedKnobs;
  knobVersion: number;
  bytes: number;
  frames: number;
  slots: number;
  /** Detections of the classes of interest over the segment's frames. */
  detections: number;
  proxy: number;
  decodeMs: number;
  inferMs: number;
  gradMs: number;
  encodeMs: number;
  probeMs: number;
  /** Mean per-frame F1 against the reference encode, on audit segments. */
  f1: number | null;
  /** Bytes of the reference encode, on audit segments. */
  refBytes?: number | null;
  /** The policy's audit: F1 of the sampled frame against its reference-quality copy. */
  auditF1?: number | null;
  /** Bytes the policy's audit sent (charged to the stream as its own). */
  auditBytes?: number;
  /** The segment's AccGrad terms per knob, when it was probed. */
  gradients?: KnobTerms[];
  /** Where the segment's objects of interest were (knobs/roi wire form, source macroblocks). */
  roiMask?: string;
  resultKey?: string;
  /** Why the segment could not be processed; the stream goes on without it. */
  error?: string;
}

export const resultJobSchema = z.object({
  streamId: streamIdSchema,
  seq: z.number().int().min(0),
  knobs: encodedKnobsSchema,
  knobVersion: z.number().int().min(0),
  bytes: z.number().int().min(0),
  frames: z.number().int().min(0),
  slots: z.number().int().positive().max(3600),
  detections: z.number().int().min(0),
  proxy: z.number(),
  decodeMs: z.number().min(0),
  inferMs: z.number().min(0),
  gradMs: z.number().min(0),
  encodeMs: z.number().min(0),
  probeMs: z.number().min(0),
  f1: z.number().min(0).max(1).nullable(),
  refBytes: z.number().int().min(0).nullable().optional(),
  auditF1: z.number().min(0).max(1).nullable().optional(),
  auditBytes: z.number().int().min(0).optional(),
  gradients: z.array(knobTermsSchema).optional(),
  roiMask: z.string().max(100_000).optional(),
  resultKey: z.string().optional(),
  error: z.string().optional(),
}) satisfies z.ZodType<ResultJob>;

/** What a result repeats of its segment job, as it came from the ingest. */
export function fromSegmentJob(job: SegmentJob): Pick<ResultJob, 'streamId' | 'seq' | 'knobs' | 'knobVersion' | 'bytes' | 'slots' | 'encodeMs' | 'probeMs' | 'auditBytes'> {
  return {
    streamId: job.streamId,
    seq: job.seq,
    knobs: job.knobs,
    knobVersion: job.knobVersion,
    bytes: job.bytes,
    slots: job.slots,
    encodeMs: job.encodeMs,
    probeMs: job.probeMs,
    // An audit that was sent is paid for, whether or not the segment could be analysed.
    ...(job.frameAuditBytes !== undefined ? { auditBytes: job.frameAuditBytes } : {}),
  };
}
