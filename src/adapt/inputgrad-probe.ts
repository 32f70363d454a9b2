import { macroblockCount } from '../knobs/macroblocks.js';
import type { KnobName } from '../knobs/space.js';

/**
 * The InputGrad probe of one segment, computed at the ingest (which holds the raw video)
 * and uploaded beside the segment: per-macroblock distortion sums and byte counts for the
 * current encode and, per knob, the encode one step cheaper. Small: a few thousand numbers.
 */
export interface Probe {
  seq: number;
  /** Source frame size; the macroblock grid is ceil(width/16) × ceil(height/16). */
  width: number;
  height: number;
  /** Frames compared (analysis slots of the segment). */
  frames: number;
  /** Bytes of the reference encode the bandwidth terms are relative to. */
  refBytes: number;
  /** Frames per second of the reference (the GPU terms are relative to it). */
  refFps: number;
  current: ProbeVariant;
  /** One per knob that has a cheaper level; absent for knobs already at their cheapest. */
  cheaper: Partial<Record<KnobName, ProbeVariant>>;
  /**
   * The reference encode of the same frames, when the policy measures accuracy against it
   * (target mode): the reference is lossy too, so F1 lost is about distortion beyond its own.
   */
  reference?: ProbeVariant;
}

export interface ProbeVariant {
  /** The knob values the variant was encoded with. */
  qp: number;
  resolution: number;
  fps: number;
  /** QP offset outside the region of interest (absent in probes written before the roi knob). */
  roi?: number;
  bytes: number;
  /** D_mb, row-major over the source's macroblock grid, in 0..255 units summed over frames and rgb. */
  distortion: number[];
}

export function validateProbe(p: Probe): Probe {
  const cells = macroblockCount(p.width, p.height);
  const check = (v: ProbeVariant, what: string) => {
    if (v.distortion.length !== cells) throw new Error(`probe ${p.seq}: ${what} has ${v.distortion.length} macroblocks, expected ${cells} for ${p.width}x${p.height}`);
  };
  check(p.current, 'current');
  for (const [k, v] of Object.entries(p.cheaper)) if (v) check(v, k);
  if (p.reference) check(p.reference, 'reference');
  if (!(p.refBytes > 0)) throw new Error(`probe ${p.seq}: refBytes must be positive, got ${p.refBytes}`);
  return p;
}
