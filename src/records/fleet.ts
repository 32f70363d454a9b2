import { z } from 'zod';
import type { FleetMember, FleetState } from '../adapt/fleet-price.js';
import { PermanentError } from '../errors.js';
import { STREAM_ID_PATTERN } from './stream-id.js';

/** A stream's place in a fleet: which one, how much its F1 counts, whose floor goes last. */
export interface FleetMembership {
  name: string;
  /** Its F1 counts this much in the fleet's objective (the price it sees is divided by it); default 1. */
  weight?: number;
  /** Floors of higher priorities are held first when the budget cannot hold them all; default 0. */
  priority?: number;
}

/** Fleet names follow the stream-id rule: they become Redis keys (and their hash tags). */
export const fleetNameSchema = z.string().regex(STREAM_ID_PATTERN, "a letter or digit, then letters, digits, '.', '_' or '-' (at most 128)");

export class FleetNameError extends PermanentError {
  override name = 'FleetNameError';
}

export function assertFleetName(name: string): string {
  if (!STREAM_ID_PATTERN.test(name)) throw new FleetNameError(`fleet name must be a letter or digit, then letters, digits, '.', '_' or '-' (at most 128), got ${JSON.stringify(name)}`);
  return name;
}

export const fleetMembershipSchema = z.object({
  name: fleetNameSchema,
  weight: z.number().positive().max(1e6).optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
}) satisfies z.ZodType<FleetMembership>;

const memberSchema = z.object({
  seq: z.number().int().min(0),
  seenMs: z.number(),
  kbps: z.number().min(0),
  gpuFps: z.number().min(0),
  nextKbps: z.number().min(0).optional(),
  nextGpuFps: z.number().min(0).optional(),
  hintBw: z.number().positive().optional(),
  hintGpu: z.number().positive().optional(),
  weight: z.number().positive(),
  priority: z.number().int(),
  floorF1: z.number().optional(),
  floorBound: z.boolean().optional(),
  floorKbps: z.number().min(0).optional(),
  floorGpuFps: z.number().min(0).optional(),
}) satisfies z.ZodType<FleetMember>;

export const fleetStateSchema = z.object({
  logPriceBw: z.number().optional(),
  logPriceGpu: z.number().optional(),
  budgetKbps: z.number().positive().optional(),
  budgetGpuFps: z.number().positive().optional(),
  floorsReleasedAt: z.number().int().nullable(),
  members: z.record(z.string(), memberSchema),
}) satisfies z.ZodType<FleetState>;
