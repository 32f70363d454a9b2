/**
 * What a fleet of cameras could do under one total bitrate, computed from the measured grid:
 * an equal split (each camera its hindsight-best fixed configuration within budget/k), the best
 * static allocation in hindsight (one fixed configuration per camera, chosen jointly: a knapsack
 * over the grid), and the per-segment oracle (every second, every camera its own configuration,
 * the total within the budget). Plus the measures every fleet method is reported with.
 */

/** One camera's measured outcome per segment at one configuration. */
export interface CameraSegment {
  bytes: number;
  f1: number;
  slots: number;
}

/** A camera's grid: per configuration, its segments (all configurations have the same segments). */
export interface CameraGrid {
  video: string;
  segmentSeconds: number;
  configs: { spec: string; segments: CameraSegment[] }[];
}

/** A camera's whole run as a fleet method ran it: per segment, bits sent and F1. */
export interface CameraRun {
  video: string;
  segments: CameraSegment[];
  /** The fixed configuration a static method chose for it. */
  spec?: string;
}

/** The camera's F1 over its run (slot-weighted mean) and its mean rate over its own seconds. */
export function cameraPoint(segments: readonly CameraSegment[], segmentSeconds: number): { kbps: number; f1: number } {
  let bytes = 0;
  let f1 = 0;
  let slots = 0;
  for (const s of segments) {
    bytes += s.bytes;
    f1 += s.f1 * s.slots;
    slots += s.slots;
  }
  return { kbps: (bytes * 8) / 1000 / Math.max(1e-9, segments.length * segmentSeconds), f1: slots > 0 ? f1 / slots : 1 };
}

const pointsOf = (cam: CameraGrid) => cam.configs.map((c) => ({ spec: c.spec, ...cameraPoint(c.segments, cam.segmentSeconds) }));

/** The camera's most accurate fixed configuration within `kbps`; its cheapest when none fits. */
export function bestWithin(cam: CameraGrid, kbps: number): CameraRun {
  const pts = pointsOf(cam);
  const within = pts.filter((p) => p.kbps <= kbps);
  const pick = within.length > 0 ? within.reduce((b, p) => (p.f1 > b.f1 || (p.f1 === b.f1 && p.kbps < b.kbps) ? p : b)) : pts.reduce((b, p) => (p.kbps < b.kbps ? p : b));
  return { video: cam.video, spec: pick.spec, segments: cam.configs.find((c) => c.spec === pick.spec)!.segments };
}

/** The cheapest fixed configuration reaching `f1` (the most accurate when none does). */
export function cheapestReaching(cam: CameraGrid, f1: number): { spec: string; kbps: number; f1: number } {
  const pts = pointsOf(cam);
  const reaching = pts.filter((p) => p.f1 >= f1 - 5e-4);
  return reaching.length > 0 ? reaching.reduce((b, p) => (p.kbps < b.kbps ? p : b)) : pts.reduce((b, p) => (p.f1 > b.f1 ? p : b));
}

/** (a) Equal split: budget/k per camera, each its best fixed configuration within it. */
export function equalSplit(cams: readonly CameraGrid[], budgetKbps: number): CameraRun[] {
  return cams.map((c) => bestWithin(c, budgetKbps / cams.length));
}

/** Options no other beats on both cost and value, cheapest first (only these can be in a best choice). */
function frontier<T extends { cost: number; value: number }>(options: readonly T[]): T[] {
  const sorted = [...options].sort((a, b) => a.cost - b.cost || b.value - a.value);
  const out: T[] = [];
  for (const p of sorted) if (out.length === 0 || p.value > out[out.length - 1].value) out.push(p);
  return out;
}

/**
 * One option per group maximising the summed value with the summed cost within `cap`: an exact
 * branch-and-bound over each group's frontier. Null when even the cheapest options exceed the cap.
 */
export function bestJoint<T extends { cost: number; value: number }>(groups: readonly (readonly T[])[], cap: number): T[] | null {
  const fronts = groups.map((g) => frontier(g));
  const minRest = fronts.map((_, i) => fronts.slice(i).reduce((s, f) => s + f[0].cost, 0));
  const maxRest = fronts.map((_, i) => fronts.slice(i).reduce((s, f) => s + f[f.length - 1].value, 0));
  const eps = 1e-9 * Math.max(1, cap);
  let best = -Infinity;
  let bestPick: T[] | null = null;
  const pick: T[] = [];
  const search = (i: number, cost: number, value: number): void => {
    if (cost + (minRest[i] ?? 0) > cap + eps) return;
    if (i === fronts.length) {
      if (value > best + 1e-12) {
        best = value;
        bestPick = [...pick];
      }
      return;
    }
    if (value + maxRest[i] <= best + 1e-12) return;
    // Dearest (most valuable) first: good solutions early make the bound bite.
    for (let o = fronts[i].length - 1; o >= 0; o--) {
      pick[i] = fronts[i][o];
      search(i + 1, cost + fronts[i][o].cost, value + fronts[i][o].value);
    }
  };
  search(0, 0, 0);
  return bestPick;
}

/**
 * (b) The best static allocation in hindsight: one fixed configuration per camera maximising the
 * fleet's mean F1 with the cameras' mean rates summing to at most the budget (exact: bestJoint).
 * Every camera at its cheapest when even that exceeds the budget.
 */
export function staticOracle(cams: readonly CameraGrid[], budgetKbps: number): CameraRun[] {
  const groups = cams.map((c) => pointsOf(c).map((p) => ({ spec: p.spec, cost: p.kbps, value: p.f1 })));
  const chosen = bestJoint(groups, budgetKbps);
  if (!chosen) return cams.map((c) => bestWithin(c, 0));
  return chosen.map((o, i) => ({ video: cams[i].video, spec: o.spec, segments: cams[i].configs.find((c) => c.spec === o.spec)!.segments }));
}

/**
 * The per-segment oracle under the total: every second, every camera present its own
 * configuration, the second's bits within the budget, maximising the fleet's mean F1 (a camera's
 * segment weighs 1/its number of segments, as in the fleet mean); exact per second (bestJoint).
 */
export function segmentOracle(cams: readonly CameraGrid[], budgetKbps: number): CameraRun[] {
  const segS = cams[0]?.segmentSeconds ?? 1;
  const longest = Math.max(...cams.map((c) => c.configs[0].segments.length));
  const runs: CameraRun[] = cams.map((c) => ({ video: c.video, segments: [] }));
  const cap = (budgetKbps * 1000 * segS) / 8;
  for (let t = 0; t < longest; t++) {
    const present = cams.map((c, i) => ({ c, i })).filter(({ c }) => t < c.configs[0].segments.length);
    const groups = present.map(({ c }) => c.configs.map((cfg) => ({ seg: cfg.segments[t], cost: cfg.segments[t].bytes, value: cfg.segments[t].f1 / c.configs[0].segments.length })));
    const chosen = bestJoint(groups, cap) ?? groups.map((g) => g.reduce((b, o) => (o.cost < b.cost ? o : b)));
    present.forEach(({ i }, j) => runs[i].segments.push(chosen[j].seg));
  }
  return runs;
}

/** How a fleet method did: per camera and for the fleet, over the fleet's seconds. */
export interface FleetOutcome {
  /** Mean over the cameras of each camera's F1. */
  meanF1: number;
  worstF1: number;
  /** The fleet's total, kbit/s: all bits over the longest camera's seconds. */
  kbps: number;
  /** The total over every 10-s window starting at 5 s or later (whole windows), as a multiple of the budget: the extremes. */
  windowMin: number | null;
  windowMax: number | null;
  perCamera: { video: string; kbps: number; f1: number; spec?: string }[];
  /** The fleet's total kbit/s per second. */
  totals: number[];
}

export const WINDOW_S = 10;
export const WARMUP_S = 5;

/** Per second, the fleet's total kbit/s (cameras present that second). */
export function fleetTotalsPerSecond(runs: readonly CameraRun[], segmentSeconds: number): number[] {
  const longest = Math.max(...runs.map((r) => r.segments.length));
  return Array.from({ length: longest }, (_, t) => runs.reduce((s, r) => s + (t < r.segments.length ? (r.segments[t].bytes * 8) / 1000 / segmentSeconds : 0), 0));
}

/** The extremes of the 10-s window means from 5 s on, as multiples of the budget (null: too short). */
export function windowExtremes(totals: readonly number[], budgetKbps: number, segmentSeconds: number): { min: number | null; max: number | null } {
  const w = Math.round(WINDOW_S / segmentSeconds);
  const from = Math.round(WARMUP_S / segmentSeconds);
  let min: number | null = null;
  let max: number | null = null;
  for (let s = from; s + w <= totals.length; s++) {
    const m = totals.slice(s, s + w).reduce((a, b) => a + b, 0) / w / budgetKbps;
    min = min === null ? m : Math.min(min, m);
    max = max === null ? m : Math.max(max, m);
  }
  return { min, max };
}

export function fleetOutcome(runs: readonly CameraRun[], budgetKbps: number, segmentSeconds: number): FleetOutcome {
  const perCamera = runs.map((r) => ({ video: r.video, ...cameraPoint(r.segments, segmentSeconds), ...(r.spec ? { spec: r.spec } : {}) }));
  const totals = fleetTotalsPerSecond(runs, segmentSeconds);
  const w = windowExtremes(totals, budgetKbps, segmentSeconds);
  return {
    meanF1: perCamera.reduce((s, c) => s + c.f1, 0) / Math.max(1, perCamera.length),
    worstF1: Math.min(...perCamera.map((c) => c.f1)),
    kbps: totals.reduce((a, b) => a + b, 0) / Math.max(1, totals.length),
    windowMin: w.min,
    windowMax: w.max,
    perCamera,
    totals,
  };
}

/**
 * How fast an allocation follows the scenes, against the per-segment oracle's: a scene change is
 * where a camera's oracle share of the budget (3-s means before and after) jumps by at least
 * `minJump` of the budget; the response is the seconds until the method's share has moved half
 * of that jump the same way (that second and the 2-s mean from it; capped at `maxS`: not
 * followed). Returns the median response and the number of changes (null median: none found).
 */
export function followTime(method: readonly CameraRun[], oracle: readonly CameraRun[], budgetKbps: number, segmentSeconds: number, minJump = 0.1, maxS = 8): { medianS: number | null; changes: number; followed: number } {
  const share = (r: CameraRun, t: number) => (t < r.segments.length ? (r.segments[t].bytes * 8) / 1000 / segmentSeconds / budgetKbps : 0);
  const meanOf = (r: CameraRun, from: number, n: number) => {
    let s = 0;
    for (let t = from; t < from + n; t++) s += share(r, t);
    return s / n;
  };
  const delays: number[] = [];
  let followed = 0;
  oracle.forEach((o, i) => {
    const m = method[i];
    const n = o.segments.length;
    const jumpAt = (t: number) => meanOf(o, t, 3) - meanOf(o, t - 3, 3);
    for (let t = 3; t + 3 <= n; t++) {
      if (Math.abs(jumpAt(t)) < minJump) continue;
      // The change is where the jump is largest among the next few seconds of the same sign.
      let at = t;
      for (let u = t + 1; u <= t + 2 && u + 3 <= n; u++) if (Math.sign(jumpAt(u)) === Math.sign(jumpAt(t)) && Math.abs(jumpAt(u)) > Math.abs(jumpAt(at))) at = u;
      const jump = jumpAt(at);
      const base = meanOf(m, at - 3, 3);
      const moved = (u: number) => Math.sign(jump) * (share(m, u) - base) >= Math.abs(jump) / 2 && Math.sign(jump) * (meanOf(m, u, 2) - base) >= Math.abs(jump) / 2;
      let d = 0;
      while (d <= maxS && at + d + 2 <= n && !moved(at + d)) d++;
      const ok = d <= maxS && at + d + 2 <= n;
      if (ok) followed++;
      delays.push(ok ? d * segmentSeconds : maxS * segmentSeconds);
      t = at + 2;
    }
  });
  delays.sort((a, b) => a - b);
  return { medianS: delays.length > 0 ? delays[Math.floor((delays.length - 1) / 2)] : null, changes: delays.length, followed };
}

/** Seconds after a camera leaves (its last segment) until the fleet's total is back within 10 % of the budget (2-s mean). */
export function rebalanceTime(totals: readonly number[], leftAt: number, budgetKbps: number, segmentSeconds: number): number | null {
  for (let t = leftAt; t + 2 <= totals.length; t++) {
    const m = (totals[t] + totals[t + 1]) / 2;
    if (Math.abs(m / budgetKbps - 1) <= 0.1) return (t - leftAt) * segmentSeconds;
  }
  return null;
}
