import { DEFAULT_SPACES } from '../knobs/space.js';
import type { Policy } from './policy.js';
import { gridOf, parseProfilingParams, type ProfilingParams } from './profiling.js';
import { profilingPolicy, type ProfilingState } from './profiling-policy.js';

/**
 * AWStream defaults: every 10 s, profile a downsampled exhaustive grid (every other level of
 * the bench's default grid: 4 QPs × 2 resolutions × 2 frame rates) with spare GPU capacity of
 * 2 × the reference frame rate.
 */
export const AWSTREAM_DEFAULTS: ProfilingParams = {
  lambda: 0.2,
  resource: 'bw',
  periodS: 10,
  spareFramesPerS: undefined,
  levels: { qp: [20, 28, 36, 44], resolution: [1, 0.67], fps: [DEFAULT_SPACES.fps[0], DEFAULT_SPACES.fps[0] / 2], roi: [0] },
};

/** AWStream-style: one round over the whole profile grid, best by (1 − F1) + λ·cost. */
export function awstreamPolicy(spec = ''): Policy<ProfilingState> {
  const params = parseProfilingParams(spec, AWSTREAM_DEFAULTS, 'awstream');
  const grid = gridOf(params.levels);
  return profilingPolicy(spec ? `awstream:${spec}` : 'awstream', params, (round) => (round === 0 ? grid : undefined));
}
