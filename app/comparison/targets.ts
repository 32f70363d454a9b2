/** What these comparisons read of a run on one video (a VideoRun of the summary has it). */
interface VideoRun {
  video: string;
  durationS: number;
  segments: readonly { bytes: number; f1: number; slots: number; auditBytes?: number }[];
}

/** What these comparisons read of a run (a RunResult of the summary has it). */
interface RunResult {
  spec: string;
  family: string;
  grid: boolean;
  videos: readonly VideoRun[];
}

/**
 * The constrained runs against what hindsight would have picked for each camera: a target run
 * against the cheapest fixed configuration of that camera that reaches the target (and the F1
 * the run reached), a budget run against the most accurate fixed configuration within the
 * budget. Costs include the run's audits.
 */
export interface TargetRow {
  spec: string;
  video: string;
  target: number;
  f1: number;
  kbps: number;
  /** The audits' share of the run's bytes. */
  auditShare: number;
  /** The cheapest fixed configuration of this camera whose F1 is ≥ the F1 the run reached. */
  fixedAtF1: { spec: string; kbps: number; f1: number } | null;
  /** The cheapest fixed configuration of this camera whose F1 is ≥ the target. */
  fixedAtTarget: { spec: string; kbps: number; f1: number } | null;
}

export interface BudgetRow {
  spec: string;
  video: string;
  budgetKbps: number;
  kbps: number;
  f1: number;
  /** The most accurate fixed configuration of this camera within the budget. */
  fixedWithin: { spec: string; kbps: number; f1: number } | null;
}

interface Point {
  spec: string;
  kbps: number;
  f1: number;
}

function pointOf(spec: string, v: VideoRun): Point {
  let bytes = 0;
  let f1 = 0;
  let slots = 0;
  for (const s of v.segments) {
    bytes += s.bytes;
    f1 += s.f1 * s.slots;
    slots += s.slots;
  }
  return { spec, kbps: (bytes * 8) / 1000 / v.durationS, f1: slots > 0 ? f1 / slots : 1 };
}

const auditShare = (v: VideoRun) => {
  const all = v.segments.reduce((s, x) => s + x.bytes, 0);
  return all > 0 ? v.segments.reduce((s, x) => s + (x.auditBytes ?? 0), 0) / all : 0;
};

const param = (spec: string, key: string): number | undefined => {
  const m = new RegExp(`(?:^|[:,])${key}=([^,]+)`).exec(spec);
  return m ? Number(m[1]) : undefined;
};

/** F1 is compared to three decimals: a fixed configuration 0.0004 short of the target does not reach it. */
const reaches = (f1: number, goal: number) => f1 >= goal - 5e-4;

const cheapestReaching = (points: Point[], goal: number) =>
  points.filter((p) => reaches(p.f1, goal)).reduce<Point | null>((best, p) => (best === null || p.kbps < best.kbps ? p : best), null);

export function constrainedRows(runs: readonly RunResult[]): { targets: TargetRow[]; budgets: BudgetRow[] } {
  const grid = runs.filter((r) => r.grid);
  const targets: TargetRow[] = [];
  const budgets: BudgetRow[] = [];
  for (const run of runs) {
    if (run.grid || run.family !== 'oneadapt') continue;
    const target = param(run.spec, 'target-f1');
    const budget = param(run.spec, 'budget-kbps');
    if (target === undefined && budget === undefined) continue;
    run.videos.forEach((v, vi) => {
      const fixed = grid.map((g) => pointOf(g.spec, g.videos[vi]));
      const own = pointOf(run.spec, v);
      if (target !== undefined) {
        targets.push({ spec: run.spec, video: v.video, target, f1: own.f1, kbps: own.kbps, auditShare: auditShare(v), fixedAtF1: cheapestReaching(fixed, own.f1), fixedAtTarget: cheapestReaching(fixed, target) });
      } else if (budget !== undefined) {
        const within = fixed.filter((p) => p.kbps <= budget).reduce<Point | null>((best, p) => (best === null || p.f1 > best.f1 ? p : best), null);
        budgets.push({ spec: run.spec, video: v.video, budgetKbps: budget, kbps: own.kbps, f1: own.f1, fixedWithin: within });
      }
    });
  }
  return { targets, budgets };
}
