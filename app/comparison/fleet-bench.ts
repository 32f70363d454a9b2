import { FLEET_TIMEOUT_S } from '../../src/adapt/fleet-price.js';
import { awstreamPolicy } from '../../src/adapt/awstream-policy.js';
import { chameleonPolicy } from '../../src/adapt/chameleon-policy.js';
import { policyFromSpec } from '../../src/adapt/policies.js';
import { PolicyError } from '../../src/adapt/policy-error.js';
import { drivePolicy } from './drive.js';
import {
  cheapestReaching,
  equalSplit,
  fleetOutcome,
  followTime,
  rebalanceTime,
  segmentOracle,
  staticOracle,
  type CameraGrid,
  type CameraRun,
} from './fleet-allocations.js';
import { withinShare } from './fleet-baselines.js';
import { driveFleet } from './fleet-drive.js';
import type { FleetBudgetResult, FleetMethodRow, FleetSection } from './fleet-section.js';
import { videoRunOf } from './results.js';
import type { SegmentLab } from './segment-lab.js';

/** `--budget-kbps 600,300` (kbit/s) or `25%,50%` (of the sum of the cameras' cheapest fixed configurations reaching F1 0.9). */
export type FleetBudgetSpec = { kbps: number } | { percent: number };

/** The F1 that `N%` budgets are measured against. */
export const FLEET_REFERENCE_F1 = 0.9;

export function parseFleetBudgets(text: string): FleetBudgetSpec[] {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new PolicyError(`bad --budget-kbps "${text}": expected a comma list of kbit/s or percentages`);
  return items.map((item) => {
    const pct = item.endsWith('%');
    const v = Number(pct ? item.slice(0, -1) : item);
    if (!Number.isFinite(v) || !(v > 0)) throw new PolicyError(`bad --budget-kbps item "${item}": expected a positive number of kbit/s or a percentage (25%)`);
    return pct ? { percent: v } : { kbps: v };
  });
}

/** What the fleet comparison reads of a grid run (summary.ts's RunResult has it). */
interface GridRun {
  spec: string;
  videos: readonly { video: string; segments: readonly { bytes: number; f1: number; slots: number }[] }[];
}

export interface FleetBenchInput {
  labs: readonly SegmentLab[];
  /** The fixed grid's runs, every camera measured at every configuration. */
  grid: readonly GridRun[];
  budgets: readonly FleetBudgetSpec[];
  segmentSeconds: number;
  classes: ReadonlySet<number>;
  /** Called after every policy-driven segment (progress). */
  onSegment?: (lab: SegmentLab, gradient: boolean) => void;
}

const METHODS: Record<string, string> = {
  'equal-split': 'equal split (best fixed within budget/k each)',
  'static-oracle': 'best static allocation in hindsight',
  oneadapt: 'OneAdapt, fleet price',
  awstream: 'AWStream, budget/k each',
  chameleon: 'Chameleon, budget/k each',
  'segment-oracle': 'per-segment oracle under the total',
};

/**
 * The fleet comparison at each budget: (a) equal split, (b) the best static allocation in
 * hindsight, (c) OneAdapt with the fleet price driven over the same segments (driveFleet: the
 * real policy and the real price update), (d) AWStream and Chameleon with budget/k each, and
 * the per-segment oracle under the total as the limit. Every method is charged what it sends
 * (OneAdapt's audits, the baselines' reference-quality profiled segments).
 */
export async function fleetComparison(input: FleetBenchInput): Promise<FleetSection> {
  const { labs, segmentSeconds: segS, classes } = input;
  const cams: CameraGrid[] = labs.map((lab, vi) => ({
    video: lab.footage.name,
    segmentSeconds: segS,
    configs: input.grid.map((g) => ({ spec: g.spec, segments: g.videos[vi].segments.map((s) => ({ bytes: s.bytes, f1: s.f1, slots: s.slots })) })),
  }));
  const cheapest = cams.map((c) => cheapestReaching(c, FLEET_REFERENCE_F1));
  const referenceSum = cheapest.reduce((s, c) => s + c.kbps, 0);
  const k = labs.length;
  const longest = Math.max(...labs.map((l) => l.segments));
  const budgets: FleetBudgetResult[] = [];
  for (const spec of input.budgets) {
    const budget = 'kbps' in spec ? spec.kbps : (spec.percent / 100) * referenceSum;
    const runs: Record<string, CameraRun[]> = {
      'equal-split': equalSplit(cams, budget),
      'static-oracle': staticOracle(cams, budget),
    };
    const policy = policyFromSpec('oneadapt');
    const fleet = await driveFleet(policy, labs.map((lab) => ({ id: lab.footage.name, port: lab.port(segS) })), { kbps: budget, timeoutS: FLEET_TIMEOUT_S });
    runs.oneadapt = [];
    for (const [vi, lab] of labs.entries()) {
      const r = await videoRunOf(lab, fleet.traces[vi], classes, segS);
      runs.oneadapt.push({ video: lab.footage.name, segments: r.run.segments });
      for (let i = 0; i < lab.segments; i++) input.onSegment?.(lab, true);
    }
    for (const [name, make] of [['awstream', () => awstreamPolicy('')], ['chameleon', () => chameleonPolicy('')]] as const) {
      runs[name] = [];
      for (const lab of labs) {
        const trace = await drivePolicy(withinShare(make(), budget / k), lab.port(segS), () => input.onSegment?.(lab, false));
        runs[name].push({ video: lab.footage.name, segments: (await videoRunOf(lab, trace, classes, segS)).run.segments });
      }
    }
    runs['segment-oracle'] = segmentOracle(cams, budget);
    const oracle = runs['segment-oracle'];
    const rows: FleetMethodRow[] = Object.entries(runs).map(([method, camRuns]) => {
      const o = fleetOutcome(camRuns, budget, segS);
      const follow = followTime(camRuns, oracle, budget, segS);
      const leaves = labs.filter((l) => l.segments < longest).map((l) => l.segments);
      const rebalance = leaves.length > 0 ? rebalanceTime(o.totals, Math.min(...leaves), budget, segS) : null;
      return {
        method,
        label: METHODS[method] ?? method,
        meanF1: o.meanF1,
        worstF1: o.worstF1,
        kbps: o.kbps,
        windowMin: o.windowMin,
        windowMax: o.windowMax,
        followS: follow.medianS,
        changes: follow.changes,
        followed: follow.followed,
        rebalanceS: rebalance,
        perCamera: o.perCamera,
      };
    });
    const totals = Object.fromEntries(Object.entries(runs).map(([m, r]) => [m, fleetOutcome(r, budget, segS).totals]));
    budgets.push({
      budgetKbps: budget,
      asked: 'kbps' in spec ? String(spec.kbps) : `${spec.percent}%`,
      rows,
      timeline: Array.from({ length: longest }, (_, t) => ({ t, priceBw: fleet.ticks[t]?.priceBw ?? null, totals: Object.fromEntries(Object.entries(totals).map(([m, ts]) => [m, ts[t] ?? 0])) })),
    });
  }
  return {
    referenceF1: FLEET_REFERENCE_F1,
    referenceSumKbps: referenceSum,
    videos: labs.map((l, vi) => ({ name: l.footage.name, segments: l.segments, cheapestAtReferenceF1: cheapest[vi] })),
    budgets,
  };
}

/** Work units of the fleet comparison, as the bench's progress counts them (see comparison.ts). */
export function fleetUnits(labs: readonly SegmentLab[], budgets: number, pixels: (lab: SegmentLab) => number): number {
  return budgets * labs.reduce((s, l) => s + l.segments * pixels(l) * (6 + 2 * 0.2), 0);
}
