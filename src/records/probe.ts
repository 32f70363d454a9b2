import { z } from 'zod';
import type { Probe, ProbeVariant } from '../adapt/inputgrad-probe.js';
import { knobNameSchema, frameSideSchema } from './knobs.js';

// Wire form of the InputGrad probe the ingest uploads beside a segment (adapt/inputgrad-probe).

const variantSchema = z.object({
  qp: z.number(),
  resolution: z.number(),
  fps: z.number(),
  roi: z.number().optional(),
  bytes: z.number().int().min(0),
  distortion: z.array(z.number().min(0)),
}) satisfies z.ZodType<ProbeVariant>;

export const probeSchema = z.object({
  seq: z.number().int().min(0),
  width: frameSideSchema,
  height: frameSideSchema,
  frames: z.number().int().positive(),
  refBytes: z.number().positive(),
  refFps: z.number().positive(),
  current: variantSchema,
  cheaper: z.partialRecord(knobNameSchema, variantSchema),
  reference: variantSchema.optional(),
}) satisfies z.ZodType<Probe>;
