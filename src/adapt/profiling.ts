import { KNOB_NAMES, type KnobName, type KnobSetting } from '../knobs/space.js';
import type { ProfileResponse } from './policy.js';
import { PolicyError } from './policy-error.js';

/** What a profiling policy pays for: bytes (network) or frames inferred (GPU). */
export type ProfileResource = 'bw' | 'gpu';

export interface ProfilingParams {
  /** Price of the resource in the objective (1 − F1) + λ · cost / cost_ref. */
  lambda: number;
  resource: ProfileResource;
  /** Seconds between the starts of two profiling rounds. */
  periodS: number;
  /** Spare GPU frames per second for profiling; undefined → 2 × the reference frame rate. */
  spareFramesPerS?: number;
  /** The levels profiled, per knob (a downsampled grid; each must be a level of the knob space). */
  levels: Record<KnobName, number[]>;
}

type Result = ProfileResponse['results'][number];

/** Seconds until a profile of `framesProfiled` frames is back, given spare GPU capacity. */
export function profilingDelayS(framesProfiled: number, spareFramesPerS: number): number {
  if (!(spareFramesPerS > 0)) throw new PolicyError(`spare GPU frames per second must be positive, got ${spareFramesPerS}`);
  return Math.ceil(framesProfiled / spareFramesPerS);
}

/**
 * The first segment a profile of segment `contentSeq` can steer: the profiled segment itself
 * streams at reference quality, results come `delayS` seconds after it ends, and the segments
 * cut meanwhile also stream at reference quality.
 */
export function applyFromSeq(contentSeq: number, delayS: number, segmentSeconds = 1): number {
  return contentSeq + 1 + Math.ceil(delayS / segmentSeconds - 1e-9);
}

/** (1 − F1) + λ · cost / cost_ref, cost being bytes or frames inferred. */
export function profileObjective(r: Result, ref: { refBytes: number; refFrames: number }, lambda: number, resource: ProfileResource): number {
  const cost = resource === 'bw' ? r.bytes / ref.refBytes : r.frames / ref.refFrames;
  return 1 - r.f1 + lambda * cost;
}

/** The result with the lowest objective; ties go to the earlier (more expensive) one. */
export function bestProfiled(results: readonly Result[], ref: { refBytes: number; refFrames: number }, lambda: number, resource: ProfileResource): Result {
  if (results.length === 0) throw new PolicyError('no profiled configuration to choose from');
  let best = results[0];
  let bestScore = profileObjective(best, ref, lambda, resource);
  for (const r of results.slice(1)) {
    const s = profileObjective(r, ref, lambda, resource);
    if (s < bestScore - 1e-12) {
      best = r;
      bestScore = s;
    }
  }
  return best;
}

/** Every combination of the given levels (qp fastest), the AWStream-style exhaustive grid. */
export function gridOf(levels: Record<KnobName, readonly number[]>): KnobSetting[] {
  const out: KnobSetting[] = [];
  for (const roi of levels.roi) for (const fps of levels.fps) for (const resolution of levels.resolution) for (const qp of levels.qp) out.push({ qp, resolution, fps, roi });
  return out;
}

/**
 * `lambda=0.1,period=10,spare=20,resource=gpu,qp=20+28+36,resolution=1+0.67,fps=10+5`
 * over the defaults; `name` goes into error messages.
 */
export function parseProfilingParams(text: string, defaults: ProfilingParams, name: string): ProfilingParams {
  const p: ProfilingParams = { ...defaults, levels: { ...defaults.levels } };
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [key, value = ''] = part.split('=');
    const bad = (what: string) => new PolicyError(`bad ${name} parameter "${part}": ${what}`);
    if ((KNOB_NAMES as readonly string[]).includes(key)) {
      const vs = value.split('+').map(Number);
      if (vs.length === 0 || vs.some((v) => !Number.isFinite(v) || v <= 0)) throw bad(`expected ${key}=<level>+<level>…`);
      p.levels[key as KnobName] = vs;
    } else if (key === 'resource') {
      if (value !== 'bw' && value !== 'gpu') throw bad('resource is bw or gpu');
      p.resource = value;
    } else if (key === 'lambda' || key === 'period' || key === 'spare') {
      const v = Number(value);
      if (!Number.isFinite(v) || v < 0 || (key !== 'lambda' && v === 0)) throw bad(`expected ${key}=<${key === 'lambda' ? 'non-negative' : 'positive'} number>`);
      if (key === 'lambda') p.lambda = v;
      else if (key === 'period') p.periodS = v;
      else p.spareFramesPerS = v;
    } else {
      throw bad('expected lambda|period|spare|resource|qp|resolution|fps=<value>');
    }
  }
  return p;
}
