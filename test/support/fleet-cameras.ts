import type { KnobTerms } from '../../src/adapt/accgrad.js';
import { DEFAULT_SPACES, type KnobSetting } from '../../src/knobs/space.js';

/**
 * Synthetic cameras for fleet tests: QP level i and resolution level j cost
 * ref · 0.72^i · 0.75^j kbit/s and distort rec = r0 · 1.6^i · 1.5^j where the DNN looks (F1
 * lost ≈ 2·rec, the calibration prior). Cameras differ in their reference rate and in r0 (how
 * much the scene suffers), so the right allocation is far from an equal split. Bytes carry a
 * little per-segment noise, as real segments do.
 */
export interface SyntheticCamera {
  refKbps: number;
  r0: number;
}

/** A seeded generator (mulberry32), so every run of a test sees the same cameras. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function syntheticCameras(n: number, seed = 7): SyntheticCamera[] {
  const rnd = seeded(seed);
  return Array.from({ length: n }, () => ({ refKbps: 100 * Math.exp(rnd() * Math.log(20)), r0: 0.002 * Math.exp(rnd() * Math.log(5)) }));
}

const QP = DEFAULT_SPACES.qp;
const RES = DEFAULT_SPACES.resolution;

export function cameraKbps(cam: SyntheticCamera, s: KnobSetting): number {
  return cam.refKbps * 0.72 ** QP.indexOf(s.qp) * 0.75 ** RES.indexOf(s.resolution);
}

export function cameraRec(cam: SyntheticCamera, qi: number, ri: number): number {
  return cam.r0 * 1.6 ** qi * 1.5 ** ri;
}

/** One segment at `s`: its bytes (with noise from `rnd`) and the probe's AccGrad terms for qp and resolution. */
export function cameraSegment(cam: SyntheticCamera, s: KnobSetting, rnd: () => number, segmentSeconds = 1): { bytes: number; gradients: KnobTerms[] } {
  const qi = QP.indexOf(s.qp);
  const ri = RES.indexOf(s.resolution);
  const rel = (i: number, j: number) => 0.72 ** i * 0.75 ** j;
  const bytes = Math.round((cameraKbps(cam, s) * (0.9 + 0.2 * rnd()) * 1000 * segmentSeconds) / 8);
  const hq = { rec: cameraRec(cam, qi, ri), bw: rel(qi, ri) };
  const qpLq = Math.min(qi + 1, QP.length - 1);
  const resLq = Math.min(ri + 1, RES.length - 1);
  return {
    bytes,
    gradients: [
      { knob: 'qp', recHq: hq.rec, recLq: cameraRec(cam, qpLq, ri), bwHq: hq.bw, bwLq: rel(qpLq, ri), gpuHq: 1, gpuLq: 1 },
      { knob: 'resolution', recHq: hq.rec, recLq: cameraRec(cam, qi, resLq), bwHq: hq.bw, bwLq: rel(qi, resLq), gpuHq: 1, gpuLq: 1 },
    ],
  };
}
