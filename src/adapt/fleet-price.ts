import type { FleetReport, FleetView } from './policy.js';
import { priceStep } from './price.js';

/**
 * A fleet: streams sharing one budget — total uplink (kbit/s) and/or frames inferred per second.
 * Its price of each budgeted resource is one number for every member (F1 per kbit/s, F1 per
 * frame/s): each member steps its knobs at that price (divided by its weight), so every stream
 * moves until its marginal accuracy per byte equals the price, and the price moves by dual ascent
 * (in log space, as src/adapt/price.ts) on the fleet's measured total. Pure: the coordinator keeps
 * the state in Redis (src/queue/fleet-register.ts) and calls `observeMember` once per result.
 */
export interface FleetBudget {
  /** Total uplink of the members, kbit/s of video (bytes per segment over its seconds). */
  kbps?: number;
  /** Frames inferred per second across the members (audit frames included). */
  gpuFps?: number;
  /** A member whose results stop for this long is dropped and its share released. */
  timeoutS: number;
}

/** Default member timeout: long enough for a slow CPU deployment's lockstep results. */
export const FLEET_TIMEOUT_S = 30;

export interface FleetMember {
  /** Last result counted (each result counts once, a newer one only). */
  seq: number;
  /** Clock (ms) of that result. */
  seenMs: number;
  /** What it sends and has inferred at its current levels (a moving average of its results). */
  kbps: number;
  gpuFps: number;
  /** What it is about to send and have inferred at the levels its last step chose (its report's ratios). */
  nextKbps?: number;
  nextGpuFps?: number;
  /** Its last stationary prices (its report's hints, times its weight): where it would change its mind. */
  hintBw?: number;
  hintGpu?: number;
  weight: number;
  priority: number;
  /** Its floor (target F1), when it has one. */
  floorF1?: number;
  /** Its floor, not the fleet price, is what holds it where it is. */
  floorBound?: boolean;
  /** What it spent while its floor last held it: the floor's cost, remembered while released. */
  floorKbps?: number;
  floorGpuFps?: number;
}

export interface FleetState {
  /** log of the fleet's price of one kbit/s (F1 per kbit/s), once there is one. */
  logPriceBw?: number;
  /** log of the price of one frame inferred per second. */
  logPriceGpu?: number;
  /** The budgets the prices last stepped against: a change is answered at once (see stepPrice). */
  budgetKbps?: number;
  budgetGpuFps?: number;
  /** Floors of members at this priority or below are released (the budget cannot hold them); null: all held. */
  floorsReleasedAt: number | null;
  members: Record<string, FleetMember>;
}

export const EMPTY_FLEET: FleetState = { floorsReleasedAt: null, members: {} };

/** One result of one member, as the coordinator saw it. */
export interface MemberObservation {
  streamId: string;
  seq: number;
  nowMs: number;
  /** kbit/s the segment sent (its audit included) and frames/s inferred for it. */
  kbps: number;
  gpuFps: number;
  weight: number;
  priority: number;
  floorF1?: number;
  /** What the member's policy step reported (none for a failed or unprobed segment). */
  report?: FleetReport;
  /** The stream's last segment: it leaves, and its share is free at once. */
  last?: boolean;
}

export interface FleetPriceConfig {
  /** Step in log price per round of results (one of every member) at a relative error of 1. */
  eta: number;
  minPrice: number;
  maxPrice: number;
  /** The error, log(spend / budget), is clipped to ±maxError: at most a factor e^(eta·maxError) per round. */
  maxError: number;
  /**
   * The price stays within this factor of the members' stationary prices (below the lowest ÷,
   * above the highest ×): beyond every member's, a further step changes nobody's direction, it
   * only winds up while members that cannot follow (an empty scene, the end of a ladder) hold
   * the spend where it is.
   */
  hintMargin: number;
  /** Weight of a member's newest segment in its moving rates. */
  rateSmoothing: number;
  /** Floors together may claim at most this share of a budget; beyond it the lowest priorities' floors go. */
  floorShare: number;
  /** A released class comes back only once its floors fit within this share of floorShare (no flapping). */
  floorRestore: number;
  /** Per result of the member, the remembered cost of its floor decays by this factor. */
  floorMemory: number;
}

export const FLEET_PRICE_DEFAULTS: FleetPriceConfig = {
  eta: 1,
  minPrice: 1e-8,
  maxPrice: 10,
  maxError: 2,
  hintMargin: Math.E,
  rateSmoothing: 0.5,
  floorShare: 0.9,
  floorRestore: 0.85,
  floorMemory: 0.995,
};

/** Members whose last result is older than the timeout are gone. */
export function liveMembers(members: Readonly<Record<string, FleetMember>>, nowMs: number, timeoutS: number): Record<string, FleetMember> {
  const out: Record<string, FleetMember> = {};
  for (const [id, m] of Object.entries(members)) if (nowMs - m.seenMs <= timeoutS * 1000) out[id] = m;
  return out;
}

export interface FleetTotals {
  kbps: number;
  gpuFps: number;
  members: number;
}

const nextKbps = (m: FleetMember) => m.nextKbps ?? m.kbps;
const nextGpu = (m: FleetMember) => m.nextGpuFps ?? m.gpuFps;

/** The fleet's spend: what the live members are about to send and have inferred. */
export function fleetTotals(state: FleetState): FleetTotals {
  let kbps = 0;
  let gpuFps = 0;
  const ms = Object.values(state.members);
  for (const m of ms) {
    kbps += nextKbps(m);
    gpuFps += nextGpu(m);
  }
  return { kbps, gpuFps, members: ms.length };
}

/** Each member's share of the fleet's spend (of bandwidth; of GPU where there is no bandwidth). */
export function memberShares(state: FleetState): Record<string, number> {
  const t = fleetTotals(state);
  const out: Record<string, number> = {};
  for (const [id, m] of Object.entries(state.members)) out[id] = t.kbps > 0 ? nextKbps(m) / t.kbps : t.gpuFps > 0 ? nextGpu(m) / t.gpuFps : 0;
  return out;
}

/** The fleet's prices as one member sees them: divided by its weight (its F1 counts that much more). */
export function fleetView(state: FleetState, budget: FleetBudget, member: { weight: number; priority: number }): FleetView {
  const w = member.weight > 0 ? member.weight : 1;
  const t = fleetTotals(state);
  const pressure = (spend: number, b: number | undefined) => (b !== undefined && spend > 0 ? { value: Math.log(spend / b) } : undefined);
  const pBw = pressure(t.kbps, budget.kbps);
  const pGpu = pressure(t.gpuFps, budget.gpuFps);
  return {
    ...(pBw ? { pressureBw: pBw.value } : {}),
    ...(pGpu ? { pressureGpu: pGpu.value } : {}),
    budgetBw: budget.kbps !== undefined,
    ...(budget.kbps !== undefined && state.logPriceBw !== undefined ? { priceBw: Math.exp(state.logPriceBw) / w } : {}),
    budgetGpu: budget.gpuFps !== undefined,
    ...(budget.gpuFps !== undefined && state.logPriceGpu !== undefined ? { priceGpu: Math.exp(state.logPriceGpu) / w } : {}),
    floorHonoured: state.floorsReleasedAt === null || member.priority > state.floorsReleasedAt,
  };
}

/**
 * One dual-ascent step of a price against its budget, a 1/n-th of a round's step (every member's
 * result steps it), on log(spend / budget): multiplicative, like the price. No budget: no price.
 * No price yet: the first member's stationary price (its hint, times its weight) — the fleet
 * starts from a real camera's trade-off, not a constant. A changed budget moves the price at
 * once as if spend were inversely proportional to it (log price += log(old/new)), and the usual
 * steps correct from there. The result is held within `hintMargin` of the members' stationary
 * prices (`hints`: [lowest, highest]), so that it cannot wind up while nobody can follow.
 */
function stepPrice(logPrice: number | undefined, seenBudget: number | undefined, budget: number | undefined, spend: number, hint: number | undefined, hints: [number, number] | undefined, n: number, c: FleetPriceConfig): number | undefined {
  if (budget === undefined) return undefined;
  const lo = Math.log(c.minPrice);
  const hi = Math.log(c.maxPrice);
  if (logPrice === undefined) return hint !== undefined && hint > 0 && Number.isFinite(hint) ? Math.max(lo, Math.min(hi, Math.log(hint))) : undefined;
  let lp = logPrice;
  if (seenBudget !== undefined && seenBudget !== budget && seenBudget > 0) lp += Math.log(seenBudget / budget);
  const error = spend > 0 ? Math.log(spend / budget) : -c.maxError;
  lp = priceStep(lp, error, { eta: c.eta / Math.max(1, n), minLambda: c.minPrice, maxLambda: c.maxPrice, maxError: c.maxError });
  if (hints) lp = Math.max(Math.log(hints[0] / c.hintMargin), Math.min(Math.log(hints[1] * c.hintMargin), lp));
  return Math.max(lo, Math.min(hi, lp));
}

/** The lowest and highest stationary price among the members that reported one. */
function hintRange(members: Readonly<Record<string, FleetMember>>, pick: (m: FleetMember) => number | undefined): [number, number] | undefined {
  const hs = Object.values(members).map(pick).filter((h): h is number => h !== undefined && h > 0 && Number.isFinite(h));
  return hs.length > 0 ? [Math.min(...hs), Math.max(...hs)] : undefined;
}

/**
 * Which floors the budget can hold: priority classes from the highest down, each class's floors
 * costing what its members spent while their floors bound them; the first class that would take
 * the floors beyond `floorShare` of a budget is released with every class below it. A class
 * released before comes back only once it fits within `floorRestore` of that share.
 */
function floorsReleasedAt(members: Readonly<Record<string, FleetMember>>, budget: FleetBudget, before: number | null, c: FleetPriceConfig): number | null {
  const floored = Object.values(members).filter((m) => m.floorF1 !== undefined);
  const classes = [...new Set(floored.map((m) => m.priority))].sort((a, b) => b - a);
  let usedKbps = 0;
  let usedGpu = 0;
  for (const p of classes) {
    const inClass = floored.filter((m) => m.priority === p);
    // The remembered cost, not the current rate: a floor just restored is still climbing back.
    const kbps = inClass.reduce((s, m) => s + Math.max(m.floorKbps ?? 0, m.floorBound ? nextKbps(m) : 0), 0);
    const gpu = inClass.reduce((s, m) => s + Math.max(m.floorGpuFps ?? 0, m.floorBound ? nextGpu(m) : 0), 0);
    const share = c.floorShare * (before !== null && p <= before ? c.floorRestore : 1);
    const over = (budget.kbps !== undefined && usedKbps + kbps > share * budget.kbps) || (budget.gpuFps !== undefined && usedGpu + gpu > share * budget.gpuFps);
    if (over) return p;
    usedKbps += kbps;
    usedGpu += gpu;
  }
  return null;
}

/**
 * Members that left (their stream ended, or their results stopped): their share is free, and the
 * prices move at once as if the others' spend were inversely proportional to them (log price +=
 * log(what stays / what was)), as for a budget change; the usual steps correct from there.
 */
function releaseShares(state: FleetState, members: Readonly<Record<string, FleetMember>>): FleetState {
  const gone = Object.keys(state.members).filter((id) => !(id in members));
  if (gone.length === 0) return state;
  const before = fleetTotals(state);
  const after = fleetTotals({ ...state, members: { ...members } });
  const jump = (lp: number | undefined, b: number, a: number) => (lp === undefined || !(b > 0) || !(a > 0) || a >= b ? lp : lp + Math.log(a / b));
  const bw = jump(state.logPriceBw, before.kbps, after.kbps);
  const gpu = jump(state.logPriceGpu, before.gpuFps, after.gpuFps);
  return { ...state, ...(bw !== undefined ? { logPriceBw: bw } : {}), ...(gpu !== undefined ? { logPriceGpu: gpu } : {}) };
}

/**
 * Counts one result of one member and steps the fleet's prices: members past the timeout are
 * dropped first (their share is released), an older or repeated result of a member changes
 * nothing else (results may be retried or arrive out of order), a member's last segment takes it
 * out. Returns the new state; `state` is not modified.
 */
export function observeMember(before: FleetState, budget: FleetBudget, obs: MemberObservation, c: FleetPriceConfig = FLEET_PRICE_DEFAULTS): FleetState {
  const members = liveMembers(before.members, obs.nowMs, budget.timeoutS);
  const prev = members[obs.streamId];
  if (prev && obs.seq <= prev.seq) return { ...releaseShares(before, members), members };
  if (obs.last) delete members[obs.streamId];
  const state = releaseShares(before, members);
  if (!obs.last) {
    // The average is of the rate at the levels just measured: the previous estimate is first
    // carried to them (its `next`, what the member expected this segment to cost).
    const a = c.rateSmoothing;
    const kbps = prev ? (1 - a) * (prev.nextKbps ?? prev.kbps) + a * obs.kbps : obs.kbps;
    const gpuFps = prev ? (1 - a) * (prev.nextGpuFps ?? prev.gpuFps) + a * obs.gpuFps : obs.gpuFps;
    const ratioBw = obs.report?.nextRatioBw;
    const ratioGpu = obs.report?.nextRatioGpu;
    const w = obs.weight > 0 ? obs.weight : 1;
    const hintBw = obs.report?.priceHintBw !== undefined ? obs.report.priceHintBw * w : prev?.hintBw;
    const hintGpu = obs.report?.priceHintGpu !== undefined ? obs.report.priceHintGpu * w : prev?.hintGpu;
    const bound = obs.report?.floorBound === true;
    const hasFloor = obs.floorF1 !== undefined;
    // A floor's cost: the most it spent while binding, forgotten slowly (scenes change, and a
    // released floor is tried again once its remembered cost fits). A floor just restored has not
    // climbed back yet: its current rate alone would understate the cost.
    const remembered = (now: number, before: number | undefined) => {
      if (!hasFloor) return undefined;
      const decayed = before === undefined ? undefined : before * c.floorMemory;
      return bound ? Math.max(now, decayed ?? 0) : decayed;
    };
    members[obs.streamId] = {
      seq: obs.seq,
      seenMs: obs.nowMs,
      kbps,
      gpuFps,
      ...(ratioBw !== undefined && ratioBw > 0 ? { nextKbps: kbps * ratioBw } : {}),
      ...(ratioGpu !== undefined && ratioGpu > 0 ? { nextGpuFps: gpuFps * ratioGpu } : {}),
      ...(hintBw !== undefined ? { hintBw } : {}),
      ...(hintGpu !== undefined ? { hintGpu } : {}),
      weight: obs.weight,
      priority: obs.priority,
      ...(hasFloor ? { floorF1: obs.floorF1, floorBound: bound } : {}),
      ...(remembered(kbps, prev?.floorKbps) !== undefined ? { floorKbps: remembered(kbps, prev?.floorKbps) } : {}),
      ...(remembered(gpuFps, prev?.floorGpuFps) !== undefined ? { floorGpuFps: remembered(gpuFps, prev?.floorGpuFps) } : {}),
    };
  }
  const totals = fleetTotals({ ...state, members });
  const n = Math.max(1, totals.members);
  const w = obs.weight > 0 ? obs.weight : 1;
  const hintBw = obs.report?.priceHintBw !== undefined ? obs.report.priceHintBw * w : undefined;
  const hintGpu = obs.report?.priceHintGpu !== undefined ? obs.report.priceHintGpu * w : undefined;
  const next: FleetState = {
    members,
    floorsReleasedAt: floorsReleasedAt(members, budget, state.floorsReleasedAt, c),
  };
  const bw = stepPrice(state.logPriceBw, state.budgetKbps, budget.kbps, totals.kbps, hintBw, hintRange(members, (m) => m.hintBw), n, c);
  const gpu = stepPrice(state.logPriceGpu, state.budgetGpuFps, budget.gpuFps, totals.gpuFps, hintGpu, hintRange(members, (m) => m.hintGpu), n, c);
  if (bw !== undefined) next.logPriceBw = bw;
  if (gpu !== undefined) next.logPriceGpu = gpu;
  if (budget.kbps !== undefined) next.budgetKbps = budget.kbps;
  if (budget.gpuFps !== undefined) next.budgetGpuFps = budget.gpuFps;
  return next;
}

/** The member leaves now (its stream ended): its share is free for the others at once. */
export function removeMember(state: FleetState, streamId: string): FleetState {
  const members = { ...state.members };
  delete members[streamId];
  return { ...releaseShares(state, members), members };
}
