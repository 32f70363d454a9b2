import type { KnobSetting } from '../../src/knobs/space.js';
import { lag1OracleCurve, oracleCurve, type CostKind, type OracleVideo } from './oracle.js';
import { costRatioAtEqualF1, paretoFrontier, type CurvePoint } from './pareto.js';
import type { PolicyFamily, Resource } from './specs.js';
import type { CalibrationScore } from './calibration-score.js';
import { constrainedRows, type BudgetRow, type TargetRow } from './targets.js';
import type { FleetSection } from './fleet-section.js';

/** One run on one video, reduced to what the comparison needs. */
export interface VideoRun {
  video: string;
  durationS: number;
  /** `bytes` and `frames` include the policy's audits; `auditBytes` is their share. */
  segments: { seq: number; setting: KnobSetting; bytes: number; frames: number; slots: number; f1: number; auditBytes?: number }[];
  map: number;
  /** Milliseconds of work beyond encode and inference: probe + gradient, or profiling. */
  overheadMs: number;
  profileFrames: number;
  adaptationDelaysS: number[];
}

export interface RunResult {
  /** Full spec, e.g. `oneadapt:lambda=0.001,gpu=0` or `fixed:qp=28,resolution=1,fps=10`. */
  spec: string;
  family: PolicyFamily;
  lambda: number | null;
  resource: Resource | null;
  /** Part of the fixed grid (draws the frontier and the oracles). */
  grid: boolean;
  /** mAP@0.5 over all the videos' frames together. */
  map: number;
  videos: VideoRun[];
}

const COMPARED = ['BestFixed', 'Awstream', 'Chameleon', 'Oracle', 'Lag1Oracle'] as const;
type Compared = (typeof COMPARED)[number];
type Ratios<P extends string> = { [K in `${P}Vs${Compared}AtEqualF1`]: number | null };

export type SummaryRow = {
  policy: string;
  spec: string;
  lambda: number | null;
  resource: Resource | null;
  kbps: number;
  f1: number;
  map: number;
  framesPerS: number;
  /** Frames inferred for profiling (spare GPU), per second of video. */
  profileFramesPerS: number;
  /** Mean seconds from the start of the segment a decision rests on to the start of the first one it steers. */
  adaptationDelayS: number | null;
  overheadMsPerS: number;
  /** Part of the fixed grid; `onFixedFrontier`: on its pooled bandwidth frontier; `onGpuFrontier`: on its frames one. */
  grid: boolean;
  onFixedFrontier: boolean;
  onGpuFrontier: boolean;
  /**
   * A grid row off a frontier: the frontier configuration that costs no more and reaches at
   * least its F1 (null on the frontier); null for rows outside the grid.
   */
  dominatedBy: Record<Resource, string | null> | null;
  perVideo: { video: string; kbps: number; f1: number; map: number; framesPerS: number; bytesVsBestFixedAtEqualF1: number | null; framesVsBestFixedAtEqualF1: number | null }[];
} & Ratios<'bytes'> &
  Ratios<'frames'>;

export interface Curves {
  fixed: CurvePoint[];
  fixedFrontier: CurvePoint[];
  oracle: CurvePoint[];
  lag1Oracle: CurvePoint[];
  awstream: CurvePoint[];
  chameleon: CurvePoint[];
  oneadapt: CurvePoint[];
}

export interface Summary {
  /** Target and budget runs per camera against hindsight's fixed choice (see targets.ts). */
  targets: TargetRow[];
  budgets: BudgetRow[];
  /** Per gradient run: how well its per-knob predictions matched one-step moves. */
  calibration: { spec: string; score: CalibrationScore }[];
  /** `--budget-kbps`: the videos as one fleet under each total (see fleet-bench.ts). */
  fleets?: FleetSection;
  videos: { name: string; path: string; segments: number; durationS: number; referenceKbps: number }[];
  gridSize: number;
  rows: SummaryRow[];
  /** Per resource: `bw` in kbit/s, `gpu` in frames inferred per second. */
  curves: Record<Resource, Curves>;
  perVideoFrontiers: Record<string, Record<Resource, CurvePoint[]>>;
}

interface Pooled {
  kbps: number;
  framesPerS: number;
  f1: number;
}

function pool(videos: readonly VideoRun[]): Pooled {
  let bytes = 0;
  let frames = 0;
  let f1 = 0;
  let slots = 0;
  let seconds = 0;
  for (const v of videos) {
    seconds += v.durationS;
    for (const s of v.segments) {
      bytes += s.bytes;
      frames += s.frames;
      f1 += s.f1 * s.slots;
      slots += s.slots;
    }
  }
  return { kbps: (bytes * 8) / 1000 / seconds, framesPerS: frames / seconds, f1: slots > 0 ? f1 / slots : 1 };
}

const costOf = (p: Pooled, r: Resource) => (r === 'bw' ? p.kbps : p.framesPerS);
const point = (run: RunResult, r: Resource, videos = run.videos): CurvePoint => {
  const p = pool(videos);
  return { cost: costOf(p, r), f1: p.f1, label: run.spec };
};

/** Per segment, every grid configuration's outcome, the reference first (as the oracles need). */
function oracleVideos(grid: readonly RunResult[]): OracleVideo[] {
  return grid[0].videos.map((v, vi) => ({
    durationS: v.durationS,
    segments: v.segments.map((seg, si) => ({
      slots: seg.slots,
      options: grid.map((g) => {
        const s = g.videos[vi].segments[si];
        return { key: g.spec, bytes: s.bytes, frames: s.frames, f1: s.f1 };
      }),
    })),
  }));
}

function curvesFor(runs: readonly RunResult[], r: Resource): Curves {
  const grid = runs.filter((x) => x.grid);
  const kind: CostKind = r === 'bw' ? 'bytes' : 'frames';
  const family = (f: PolicyFamily) => paretoFrontier(runs.filter((x) => !x.grid && x.family === f && x.resource === r).map((x) => point(x, r)));
  const fixed = grid.map((g) => point(g, r));
  const ov = oracleVideos(grid);
  return {
    fixed,
    fixedFrontier: paretoFrontier(fixed),
    oracle: paretoFrontier(oracleCurve(ov, kind)),
    lag1Oracle: paretoFrontier(lag1OracleCurve(ov, kind)),
    awstream: family('awstream'),
    chameleon: family('chameleon'),
    oneadapt: family('oneadapt'),
  };
}

/** The cheapest point of `frontier` that costs no more than (cost, f1) and reaches at least its F1, other than `self`. */
function dominator(frontier: readonly CurvePoint[], cost: number, f1: number, self: string): string | null {
  if (frontier.some((q) => q.label === self)) return null;
  const eps = 1e-9;
  return frontier.find((q) => q.label !== self && q.f1 >= f1 - eps && q.cost <= cost + eps)?.label ?? null;
}

function ratios<P extends 'bytes' | 'frames'>(prefix: P, cost: number, f1: number, c: Curves): Ratios<P> {
  const curve: Record<Compared, CurvePoint[]> = { BestFixed: c.fixedFrontier, Awstream: c.awstream, Chameleon: c.chameleon, Oracle: c.oracle, Lag1Oracle: c.lag1Oracle };
  return Object.fromEntries(COMPARED.map((k) => [`${prefix}Vs${k}AtEqualF1`, costRatioAtEqualF1(cost, f1, curve[k])])) as Ratios<P>;
}

/**
 * The comparison: rows pooled over the videos (one fixed configuration serves every camera,
 * the fleet view); `perVideo` against each video's own best fixed configuration in hindsight.
 * Runs must list the grid's reference run first among grid runs.
 */
export function summarize(runs: readonly RunResult[], videos: Summary['videos'], calibration: Summary['calibration'] = []): Summary {
  const curves: Record<Resource, Curves> = { bw: curvesFor(runs, 'bw'), gpu: curvesFor(runs, 'gpu') };
  const grid = runs.filter((x) => x.grid);
  const perVideoFrontiers: Summary['perVideoFrontiers'] = {};
  videos.forEach((v, vi) => {
    const pts = (r: Resource) => paretoFrontier(grid.map((g) => point(g, r, [g.videos[vi]])));
    perVideoFrontiers[v.name] = { bw: pts('bw'), gpu: pts('gpu') };
  });
  const rows = runs.map((run): SummaryRow => {
    const p = pool(run.videos);
    const seconds = run.videos.reduce((s, v) => s + v.durationS, 0);
    const delays = run.videos.flatMap((v) => v.adaptationDelaysS);
    return {
      policy: run.family === 'fixed' ? run.spec : run.family,
      spec: run.spec,
      lambda: run.lambda,
      resource: run.resource,
      kbps: p.kbps,
      f1: p.f1,
      map: run.map,
      framesPerS: p.framesPerS,
      profileFramesPerS: run.videos.reduce((s, v) => s + v.profileFrames, 0) / seconds,
      adaptationDelayS: delays.length > 0 ? delays.reduce((a, b) => a + b, 0) / delays.length : null,
      overheadMsPerS: run.videos.reduce((s, v) => s + v.overheadMs, 0) / seconds,
      grid: run.grid,
      onFixedFrontier: run.grid && curves.bw.fixedFrontier.some((q) => q.label === run.spec),
      onGpuFrontier: run.grid && curves.gpu.fixedFrontier.some((q) => q.label === run.spec),
      dominatedBy: run.grid ? { bw: dominator(curves.bw.fixedFrontier, p.kbps, p.f1, run.spec), gpu: dominator(curves.gpu.fixedFrontier, p.framesPerS, p.f1, run.spec) } : null,
      ...ratios('bytes', p.kbps, p.f1, curves.bw),
      ...ratios('frames', p.framesPerS, p.f1, curves.gpu),
      perVideo: run.videos.map((v, vi) => {
        const q = pool([v]);
        const own = perVideoFrontiers[videos[vi].name];
        return {
          video: v.video,
          kbps: q.kbps,
          f1: q.f1,
          map: v.map,
          framesPerS: q.framesPerS,
          bytesVsBestFixedAtEqualF1: costRatioAtEqualF1(q.kbps, q.f1, own.bw),
          framesVsBestFixedAtEqualF1: costRatioAtEqualF1(q.framesPerS, q.f1, own.gpu),
        };
      }),
    };
  });
  return { videos, gridSize: grid.length, rows, curves, perVideoFrontiers, ...constrainedRows(runs), calibration };
}
