import { DEFAULT_SPACES, KnobError, referenceSetting, sameSetting, type KnobSetting, type KnobSpaces } from '../../src/knobs/space.js';

/**
 * The fixed configurations the bench measures on every segment: the product of the listed
 * levels, plus every frame rate of `fpsLadder` at reference QP and resolution (the GPU
 * comparison's curve, where frame rate is the cost).
 */
export interface BenchGrid {
  qp: number[];
  resolution: number[];
  fps: number[];
  fpsLadder: number[];
}

/** 7 × 4 × 2 = 56 configurations plus the frame-rate ladder: 60 in all. */
export const DEFAULT_BENCH_GRID: BenchGrid = {
  qp: [20, 24, 28, 32, 36, 40, 44],
  resolution: [1, 0.83, 0.67, 0.53],
  fps: [10, 5],
  fpsLadder: [...DEFAULT_SPACES.fps],
};

/** `qp=28,resolution=0.67,fps=5` (`,roi=8` when set): a cache key, and after `fixed:` a policy spec. */
export function settingKey(s: KnobSetting): string {
  return `qp=${s.qp},resolution=${s.resolution},fps=${s.fps}${s.roi > 0 ? `,roi=${s.roi}` : ''}`;
}

/** The grid's configurations, the reference first, no duplicates. */
export function gridSettings(grid: BenchGrid, spaces: KnobSpaces = DEFAULT_SPACES): KnobSetting[] {
  const ref = referenceSetting(spaces);
  const out: KnobSetting[] = [ref];
  const add = (s: KnobSetting) => {
    if (!out.some((o) => sameSetting(o, s))) out.push(s);
  };
  for (const fps of grid.fps) for (const resolution of grid.resolution) for (const qp of grid.qp) add({ qp, resolution, fps, roi: ref.roi });
  for (const fps of grid.fpsLadder) add({ ...ref, fps });
  return out;
}

/** `20,28,36` → numbers, each checked; `what` names the option in errors. */
export function parseLevels(text: string, what: string): number[] {
  const vs = text.split(/[,+ ]/).filter(Boolean).map(Number);
  if (vs.length === 0 || vs.some((v) => !Number.isFinite(v) || v <= 0)) throw new KnobError(`bad ${what} "${text}": expected a comma list of positive numbers`);
  return vs;
}
