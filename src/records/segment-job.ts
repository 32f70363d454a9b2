import { z } from 'zod';
import type { EncodedKnobs } from '../knobs/encode.js';
import { encodedKnobsSchema, frameSideSchema } from './knobs.js';
import { streamIdSchema } from './stream-id.js';

/** Ingest → inference worker: one encoded segment in the store, and what it was encoded with. */
export interface SegmentJob {
  streamId: string;
  seq: number;
  segmentKey: string;
  /** Reference-quality encode of the same frames, present on accuracy-audit segments. */
  auditKey?: string;
  auditBytes?: number;
  /** The policy's audit: the segment's sampled frame (analysis slot `frameAuditSlot`) alone at reference quality. */
  frameAuditKey?: string;
  frameAuditBytes?: number;
  frameAuditSlot?: number;
  /** The InputGrad probe (adapt/inputgrad-probe) uploaded beside the segment, when probed. */
  probeKey?: string;
  knobs: EncodedKnobs;
  knobVersion: number;
  sourceWidth: number;
  sourceHeight: number;
  /** Analysis frames the segment spans (segment seconds × analysis fps). */
  slots: number;
  /** Frames the encoded segment holds (fewer than slots at a lower frame rate). */
  frames?: number;
  bytes: number;
  encodeMs: number;
  probeMs: number;
}

export const segmentJobSchema = z.object({
  streamId: streamIdSchema,
  seq: z.number().int().min(0),
  segmentKey: z.string().min(1),
  auditKey: z.string().min(1).optional(),
  auditBytes: z.number().int().min(0).optional(),
  frameAuditKey: z.string().min(1).optional(),
  frameAuditBytes: z.number().int().min(0).optional(),
  frameAuditSlot: z.number().int().min(0).optional(),
  probeKey: z.string().min(1).optional(),
  knobs: encodedKnobsSchema,
  knobVersion: z.number().int().min(0),
  sourceWidth: frameSideSchema,
  sourceHeight: frameSideSchema,
  slots: z.number().int().positive().max(3600),
  frames: z.number().int().positive().max(3600).optional(),
  bytes: z.number().int().min(0),
  encodeMs: z.number().min(0),
  probeMs: z.number().min(0),
}) satisfies z.ZodType<SegmentJob>;
