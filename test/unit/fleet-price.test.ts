import { describe, expect, it } from 'vitest';
import { EMPTY_FLEET, fleetTotals, fleetView, observeMember, type FleetBudget, type FleetState, type MemberObservation } from '../../src/adapt/fleet-price.js';
import type { OneAdaptState } from '../../src/adapt/oneadapt-policy.js';
import { policyFromSpec } from '../../src/adapt/policies.js';
import type { PolicyContext, PolicyDecision } from '../../src/adapt/policy.js';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';
import { cameraKbps, cameraRec, cameraSegment, seeded, syntheticCameras, type SyntheticCamera } from '../support/fleet-cameras.js';

const ctx: PolicyContext = { spaces: DEFAULT_SPACES, sourceWidth: 640, sourceHeight: 360, segmentSeconds: 1 };
const JOIN = { budgetBw: false, budgetGpu: false, floorHonoured: true };

interface Member {
  cam: SyntheticCamera;
  spec: string;
  weight?: number;
  priority?: number;
  floorF1?: number;
}

/**
 * A fleet simulated without Redis: every round each member encodes its segment at its knobs,
 * steps its policy at the fleet's prices, and the fleet counts the result (as the coordinator does).
 */
function simulate(members: Member[], budgetAt: (round: number) => FleetBudget, rounds: number, live: (i: number, round: number) => boolean = () => true) {
  const rnd = seeded(11);
  let fleet: FleetState = EMPTY_FLEET;
  const decisions: PolicyDecision<unknown>[] = members.map((m) => policyFromSpec(m.spec).initial({ ...ctx, fleet: JOIN }));
  const spend: number[] = [];
  const prices: number[] = [];
  const levels: number[][] = members.map(() => []);
  for (let t = 0; t < rounds; t++) {
    const budget = budgetAt(t);
    let sent = 0;
    members.forEach((m, i) => {
      if (!live(i, t)) return;
      const setting = decisions[i].setting;
      levels[i].push(DEFAULT_SPACES.qp.indexOf(setting.qp));
      const seg = cameraSegment(m.cam, setting, rnd);
      sent += (seg.bytes * 8) / 1000;
      const member = { weight: m.weight ?? 1, priority: m.priority ?? 0 };
      const d = policyFromSpec(m.spec).step(decisions[i].state, { seq: t, setting, bytes: seg.bytes, frames: 10, proxy: 1, f1: null, gradients: seg.gradients }, { ...ctx, fleet: fleetView(fleet, budget, member) });
      decisions[i] = d;
      const obs: MemberObservation = { streamId: `m${i}`, seq: t, nowMs: t * 1000, kbps: (seg.bytes * 8) / 1000, gpuFps: 10, ...member, ...(m.floorF1 !== undefined ? { floorF1: m.floorF1 } : {}), ...(d.fleet ? { report: d.fleet } : {}) };
      fleet = observeMember(fleet, budget, obs);
    });
    spend.push(sent);
    prices.push(Math.exp(fleet.logPriceBw ?? NaN));
  }
  return { fleet, spend, prices, levels, decisions };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('a fleet price', () => {
  const cams = syntheticCameras(50);
  const total = cams.reduce((s, c) => s + c.refKbps, 0);

  it('converges and holds the fleet at its budget; each member ends where its marginal F1 per kbit/s meets the price', () => {
    const budget: FleetBudget = { kbps: 0.15 * total, timeoutS: 10 };
    const { spend, prices, levels } = simulate(cams.map((cam) => ({ cam, spec: 'oneadapt:knobs=qp' })), () => budget, 50);
    // Within a tenth of the budget on average from round 10 on, within 5 % from round 30.
    expect(Math.abs(mean(spend.slice(10)) / budget.kbps! - 1)).toBeLessThan(0.1);
    expect(Math.abs(mean(spend.slice(30)) / budget.kbps! - 1)).toBeLessThan(0.05);
    // The price settles: over the last 20 rounds it stays within ±20 % of its mean.
    const last = prices.slice(30);
    for (const p of last) expect(Math.abs(p / mean(last) - 1)).toBeLessThan(0.2);
    // KKT on a ladder: the F1 a member would lose per kbit/s saved one level down is above the
    // price, the F1 it would gain per kbit/s one level up below it (up to the ladder's steps).
    const price = mean(last);
    let consistent = 0;
    cams.forEach((cam, i) => {
      const q = Math.round(mean(levels[i].slice(40)));
      const kbps = (j: number) => cameraKbps(cam, { qp: DEFAULT_SPACES.qp[j], resolution: 1, fps: 10, roi: 0 });
      const down = q + 1 < DEFAULT_SPACES.qp.length - 1 ? (2 * (cameraRec(cam, q + 1, 0) - cameraRec(cam, q, 0))) / (kbps(q) - kbps(q + 1)) : Infinity;
      const up = q > 0 ? (2 * (cameraRec(cam, q, 0) - cameraRec(cam, q - 1, 0))) / (kbps(q - 1) - kbps(q)) : 0;
      if (down >= price / 1.6 && up <= price * 1.6) consistent++;
    });
    expect(consistent).toBeGreaterThanOrEqual(45);
  });

  it('answers a budget change within three segments', () => {
    const before: FleetBudget = { kbps: 0.2 * total, timeoutS: 10 };
    const after: FleetBudget = { kbps: 0.1 * total, timeoutS: 10 };
    const { spend, prices } = simulate(cams.map((cam) => ({ cam, spec: 'oneadapt:knobs=qp+resolution' })), (t) => (t < 40 ? before : after), 60);
    // The price moves at the very next result; the third segment after the change has moved at
    // least 80 % of the way from the old budget to the new one, and the fleet settles there.
    expect(prices[40]).toBeGreaterThan(1.5 * prices[39]);
    expect((before.kbps! - spend[43]) / (before.kbps! - after.kbps!)).toBeGreaterThan(0.8);
    expect(Math.abs(mean(spend.slice(45)) / after.kbps! - 1)).toBeLessThan(0.06);
  });

  it('divides the price by a member\'s weight: of two identical cameras the heavier one gets more', () => {
    const cam = cams[3];
    const members: Member[] = [
      { cam, spec: 'oneadapt:knobs=qp', weight: 1 },
      { cam, spec: 'oneadapt:knobs=qp', weight: 4 },
      ...cams.slice(10, 20).map((c) => ({ cam: c, spec: 'oneadapt:knobs=qp' })),
    ];
    const { fleet, levels } = simulate(members, () => ({ kbps: 0.35 * [cam, cam, ...cams.slice(10, 20)].reduce((s, c) => s + c.refKbps, 0), timeoutS: 10 }), 40);
    // Its F1 counts four times: its price is a quarter, which buys it about log 4 / log(1.6 / 0.72) ≈ 1.7 QP levels more.
    expect(mean(levels[0].slice(20)) - mean(levels[1].slice(20))).toBeGreaterThan(1.2);
    expect(fleetView(fleet, { kbps: 1, timeoutS: 10 }, { weight: 4, priority: 0 }).priceBw).toBeCloseTo(Math.exp(fleet.logPriceBw!) / 4);
  });

  it('keeps a member\'s floor while the budget can hold it, and releases the lowest priorities\' floors first when it cannot', () => {
    // The fleet's price alone would put camera 0 far below F1 0.95; its floor (target-f1) holds it.
    const floorCam = { refKbps: 800, r0: 0.01 };
    const others = cams.slice(0, 8);
    const members: Member[] = [
      { cam: floorCam, spec: 'oneadapt:knobs=qp,target-f1=0.95', priority: 1, floorF1: 0.95 },
      { cam: floorCam, spec: 'oneadapt:knobs=qp,target-f1=0.95', priority: 0, floorF1: 0.95 },
      ...others.map((cam) => ({ cam, spec: 'oneadapt:knobs=qp' })),
    ];
    const all = 2 * floorCam.refKbps + others.reduce((s, c) => s + c.refKbps, 0);
    // Roomy: the two floors (QP 24, 0.72 of the reference each) fit within 90 % of it; tight: one does.
    const roomy = 0.26 * all;
    const tight = 0.12 * all;
    const roomyRun = simulate(members, () => ({ kbps: roomy, timeoutS: 10 }), 40);
    expect(roomyRun.fleet.floorsReleasedAt).toBeNull();
    // The two floors bind (the price alone would take them cheaper) and both hold.
    expect(roomyRun.fleet.members.m0.floorBound && roomyRun.fleet.members.m1.floorBound).toBe(true);
    const tightRun = simulate(members, () => ({ kbps: tight, timeoutS: 10 }), 40);
    // Both floors cannot fit: the priority-0 floor goes, the priority-1 floor stays.
    expect(tightRun.fleet.floorsReleasedAt).toBe(0);
    expect(fleetView(tightRun.fleet, { kbps: tight, timeoutS: 10 }, { weight: 1, priority: 1 }).floorHonoured).toBe(true);
    expect(fleetView(tightRun.fleet, { kbps: tight, timeoutS: 10 }, { weight: 1, priority: 0 }).floorHonoured).toBe(false);
    expect(tightRun.fleet.members.m0.kbps).toBeGreaterThan(1.5 * tightRun.fleet.members.m1.kbps);
    expect((tightRun.decisions[0].state as OneAdaptState).predictedF1).toBeGreaterThan(0.93);
  });

  it('counts each result once, drops a member after its timeout and releases a finished one at once', () => {
    const budget: FleetBudget = { kbps: 100, timeoutS: 5 };
    const obs = (streamId: string, seq: number, nowMs: number, kbps: number, extra: Partial<MemberObservation> = {}): MemberObservation => ({ streamId, seq, nowMs, kbps, gpuFps: 10, weight: 1, priority: 0, report: { priceHintBw: 0.001 }, ...extra });
    let s = observeMember(EMPTY_FLEET, budget, obs('a', 0, 0, 80));
    s = observeMember(s, budget, obs('b', 0, 0, 60));
    const once = observeMember(s, budget, obs('a', 1, 1000, 80));
    // The same result again (a retried job) or an older one changes nothing.
    expect(observeMember(once, budget, obs('a', 1, 1500, 80))).toEqual(once);
    expect(observeMember(once, budget, obs('a', 0, 1500, 500)).members.a).toEqual(once.members.a);
    // b's results stop: gone after 5 s, a's share is the whole fleet.
    let t = once;
    for (let seq = 2; seq <= 7; seq++) t = observeMember(t, budget, obs('a', seq, seq * 1000, 80));
    expect(Object.keys(t.members)).toEqual(['a']);
    expect(fleetTotals(t).kbps).toBeCloseTo(80);
    // A's last segment: it leaves at once.
    expect(Object.keys(observeMember(t, budget, obs('a', 8, 8000, 80, { last: true })).members)).toEqual([]);
  });

  it('starts from the first member\'s stationary price and has no price without a budget', () => {
    const s = observeMember(EMPTY_FLEET, { kbps: 100, timeoutS: 5 }, { streamId: 'a', seq: 0, nowMs: 0, kbps: 50, gpuFps: 10, weight: 2, priority: 0, report: { priceHintBw: 0.003 } });
    expect(Math.exp(s.logPriceBw!)).toBeCloseTo(0.006);
    const none = observeMember(EMPTY_FLEET, { timeoutS: 5 }, { streamId: 'a', seq: 0, nowMs: 0, kbps: 50, gpuFps: 10, weight: 1, priority: 0, report: { priceHintBw: 0.003 } });
    expect(none.logPriceBw).toBeUndefined();
  });

  it('prices GPU frames on a GPU budget: the frame rate comes down to it', () => {
    // Four cameras whose frame rate is the only knob; 40 frames/s of reference, 16 allowed.
    const four = cams.slice(0, 4);
    const rnd = seeded(5);
    let fleet: FleetState = EMPTY_FLEET;
    const budget: FleetBudget = { gpuFps: 16, timeoutS: 10 };
    const policy = policyFromSpec('oneadapt:knobs=fps');
    const ds = four.map(() => policy.initial({ ...ctx, fleet: JOIN }));
    const fpsLadder = DEFAULT_SPACES.fps;
    const frames: number[] = [];
    for (let t = 0; t < 40; t++) {
      let sum = 0;
      four.forEach((cam, i) => {
        const s = ds[i].setting;
        const fi = fpsLadder.indexOf(s.fps);
        const lq = Math.min(fi + 1, fpsLadder.length - 1);
        const rec = (j: number) => cam.r0 * 1.8 ** j;
        const bytes = Math.round(((cam.refKbps * s.fps) / 10) * (0.9 + 0.2 * rnd()) * 125);
        const terms = [{ knob: 'fps' as const, recHq: rec(fi), recLq: rec(lq), bwHq: s.fps / 10, bwLq: fpsLadder[lq] / 10, gpuHq: s.fps / 10, gpuLq: fpsLadder[lq] / 10 }];
        sum += s.fps;
        ds[i] = policy.step(ds[i].state, { seq: t, setting: s, bytes, frames: s.fps, proxy: 1, f1: null, gradients: terms }, { ...ctx, fleet: fleetView(fleet, budget, { weight: 1, priority: 0 }) });
        fleet = observeMember(fleet, budget, { streamId: `c${i}`, seq: t, nowMs: t * 1000, kbps: (bytes * 8) / 1000, gpuFps: s.fps, weight: 1, priority: 0, ...(ds[i].fleet ? { report: ds[i].fleet } : {}) });
      });
      frames.push(sum);
    }
    expect(fleet.logPriceGpu).toBeDefined();
    expect(mean(frames.slice(20))).toBeLessThan(16 * 1.1);
    expect(mean(frames.slice(20))).toBeGreaterThan(16 * 0.75);
  });
});
