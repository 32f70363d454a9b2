import { DEFAULT_SPACES, KNOB_NAMES } from '../knobs/space.js';
import type { Policy } from './policy.js';
import { parseProfilingParams, type ProfilingParams } from './profiling.js';
import { profilingPolicy, type ProfilingState } from './profiling-policy.js';

/**
 * Chameleon defaults: greedy over the bench's default grid levels (7 QPs, 4 resolutions,
 * 2 frame rates), every 10 s, spare GPU capacity 2 × the reference frame rate.
 */
export const CHAMELEON_DEFAULTS: ProfilingParams = {
  lambda: 0.2,
  resource: 'bw',
  periodS: 10,
  spareFramesPerS: undefined,
  levels: { qp: [20, 24, 28, 32, 36, 40, 44], resolution: [1, 0.83, 0.67, 0.53], fps: [DEFAULT_SPACES.fps[0], DEFAULT_SPACES.fps[0] / 2], roi: [0] },
};

/**
 * Chameleon-style: one knob at a time (qp, then resolution, then fps), each round trying that
 * knob's levels with the others held at the best found so far (starting from the last choice).
 */
export function chameleonPolicy(spec = ''): Policy<ProfilingState> {
  const params = parseProfilingParams(spec, CHAMELEON_DEFAULTS, 'chameleon');
  return profilingPolicy(spec ? `chameleon:${spec}` : 'chameleon', params, (round, base, known, choose) => {
    if (round >= KNOB_NAMES.length) return undefined;
    const knob = KNOB_NAMES[round];
    const from = round === 0 ? base : choose(known).setting;
    return params.levels[knob].map((v) => ({ ...from, [knob]: v }));
  });
}
