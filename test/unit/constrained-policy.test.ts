import { describe, expect, it } from 'vitest';
import type { KnobTerms } from '../../src/adapt/accgrad.js';
import { CALIBRATION_PRIOR, calibrate, lossPerRec } from '../../src/adapt/calibration.js';
import { oneAdaptPolicy, parseOneAdaptParams, wantsAudit, type OneAdaptState } from '../../src/adapt/oneadapt-policy.js';
import type { PolicyContext, SegmentFeedback } from '../../src/adapt/policy.js';
import { policyFromSpec } from '../../src/adapt/policies.js';
import { budgetError, priceStep, PRICE_DEFAULTS, targetError } from '../../src/adapt/price.js';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';

const ctx: PolicyContext = { spaces: DEFAULT_SPACES, sourceWidth: 320, sourceHeight: 240, segmentSeconds: 1 };
const QPS = DEFAULT_SPACES.qp;

/**
 * A hand-made camera with one knob (QP): level i distorts rec(i) = r0·1.6^i where the DNN
 * looks, loses c·rec(i) F1, and costs 0.7^i of the reference bytes. With c = 3, r0 = 0.005
 * the cheapest level whose F1 is ≥ 0.9 is level 4 (QP 36, F1 0.902); level 5 gives 0.843.
 */
const camera = (c = 3, r0 = 0.005, refBytes = 40_000) => ({
  rec: (i: number) => r0 * 1.6 ** i,
  f1: (i: number) => 1 - c * r0 * 1.6 ** i,
  bytes: (i: number) => refBytes * 0.7 ** i,
});

function feedbackAt(seq: number, qp: number, cam: ReturnType<typeof camera>, audited: boolean): SegmentFeedback {
  const i = QPS.indexOf(qp);
  const j = Math.min(i + 1, QPS.length - 1);
  const terms: KnobTerms = { knob: 'qp', recHq: cam.rec(i), recLq: cam.rec(j), bwHq: 0.7 ** i, bwLq: 0.7 ** j, gpuHq: 1, gpuLq: 1 };
  // An audit frame costs half a reference segment.
  return { seq, setting: { qp, resolution: 1, fps: 10, roi: 0 }, bytes: cam.bytes(i), frames: 10, proxy: 1, f1: null, auditF1: audited ? cam.f1(i) : null, ...(audited ? { auditBytes: cam.bytes(0) / 2 } : {}), gradients: [terms] };
}

/** Runs a policy spec over `segments` segments of a camera; returns the QP of every segment. */
function run(spec: string, cam: ReturnType<typeof camera>, segments: number, roundTrip = false): { qps: number[]; states: OneAdaptState[]; audited: number[] } {
  const policy = policyFromSpec(spec);
  let d = policy.initial(ctx);
  const qps: number[] = [];
  const states: OneAdaptState[] = [];
  const audited: number[] = [];
  for (let seq = 0; seq < segments; seq++) {
    qps.push(d.setting.qp);
    if (d.audit) audited.push(seq);
    const state = roundTrip ? JSON.parse(JSON.stringify(d.state)) : d.state;
    d = policy.step(state, feedbackAt(seq, d.setting.qp, cam, d.audit === true), ctx);
    states.push(d.state as OneAdaptState);
  }
  return { qps, states, audited };
}

describe('the price controller', () => {
  it('raises the price when the resource is over-used and lowers it when there is room, within bounds', () => {
    expect(priceStep(0, 1)).toBeCloseTo(PRICE_DEFAULTS.eta);
    expect(priceStep(0, -1)).toBeCloseTo(-PRICE_DEFAULTS.eta);
    // A wild observation moves the price by at most maxError·eta.
    expect(priceStep(0, 1e6)).toBeCloseTo(PRICE_DEFAULTS.maxError * PRICE_DEFAULTS.eta);
    expect(priceStep(Math.log(PRICE_DEFAULTS.maxLambda), 1)).toBeCloseTo(Math.log(PRICE_DEFAULTS.maxLambda));
    expect(targetError(0.05, 0.1)).toBeCloseTo(0.5);
    expect(budgetError(300, 200)).toBeCloseTo(0.5);
  });
});

describe('the calibration of rec into F1', () => {
  it('estimates F1 lost per unit of rec from audits, forgetting old ones', () => {
    let c = CALIBRATION_PRIOR;
    for (let k = 0; k < 20; k++) c = calibrate(c, 1 - 5 * 0.01, 0.01);
    // Twenty audits at c = 5 outweigh the prior (c = 2).
    expect(lossPerRec(c)).toBeCloseTo(5, 1);
    expect(c.audits).toBe(20);
    // A frame nothing was seen on (rec 0) says nothing about the scale.
    expect(calibrate(c, 0.3, 0)).toBe(c);
  });
});

describe('OneAdapt with a target F1', () => {
  it('parses its parameters', () => {
    const p = parseOneAdaptParams('target-f1=0.9');
    expect(p.targetF1).toBe(0.9);
    expect(() => parseOneAdaptParams('target-f1=1.2')).toThrow(/target-f1 must be in \(0, 1\)/);
    expect(() => parseOneAdaptParams('target-f1=0.9,budget-kbps=100')).toThrow(/two different modes/);
  });

  it('asks for audits early, then sparsely and only within their share of the bytes', () => {
    const p = { auditEvery: 24, auditShare: 0.1 };
    const ledger = { requested: 0, lastSeq: null, streamBytes: 0, auditBytes: 0, lastAuditBytes: 0 };
    expect(wantsAudit(ledger, 0, p)).toBe(true);
    expect(wantsAudit({ ...ledger, requested: 1, lastSeq: 1 }, 3, p)).toBe(false);
    expect(wantsAudit({ ...ledger, requested: 1, lastSeq: 1 }, 4, p)).toBe(true);
    const later = { requested: 2, lastSeq: 5, streamBytes: 100_000, auditBytes: 4_000, lastAuditBytes: 2_000 };
    expect(wantsAudit(later, 27, p)).toBe(false);
    expect(wantsAudit(later, 28, p)).toBe(true);
    // The next audit would take the audits past 10 % of the stream's bytes: not yet.
    expect(wantsAudit({ ...later, streamBytes: 50_000 }, 28, p)).toBe(false);
    // λ mode never audits.
    const { audited } = run('oneadapt:knobs=qp', camera(), 30);
    expect(audited).toEqual([]);
  });

  it('settles on the cheapest level that meets the target, and stays within one level of it', () => {
    const cam = camera();
    const { qps } = run('oneadapt:target-f1=0.9,knobs=qp', cam, 80);
    const late = qps.slice(40);
    // The right answer is QP 36 (level 4); the controller may dither to a neighbour, no further.
    for (const qp of late) expect(Math.abs(QPS.indexOf(qp) - 4)).toBeLessThanOrEqual(1);
    const meanF1 = late.reduce((s, qp) => s + cam.f1(QPS.indexOf(qp)), 0) / late.length;
    expect(meanF1).toBeGreaterThan(0.87);
    expect(meanF1).toBeLessThan(0.95);
  });

  it('finds the same target on a camera whose rec means three times less F1', () => {
    // c = 1: rec must reach 0.1, level 6 (QP 44): 1 − 0.005·1.6⁶ = 0.916.
    const cam = camera(1);
    const { qps, states, audited } = run('oneadapt:target-f1=0.9,knobs=qp', cam, 120);
    const last = states[states.length - 1];
    expect(audited.slice(0, 2)).toEqual([1, 5]);
    // The audits taught it the camera's scale, starting from the prior of 2.
    const c = lossPerRec(last.calibration!);
    expect(c).toBeGreaterThan(0.9);
    expect(c).toBeLessThan(1.3);
    for (const qp of qps.slice(80)) expect(Math.abs(QPS.indexOf(qp) - 6)).toBeLessThanOrEqual(1);
  });

  it('steps the same after its state went through JSON (a coordinator restart)', () => {
    const cam = camera();
    expect(run('oneadapt:target-f1=0.9,knobs=qp', cam, 40, true).qps).toEqual(run('oneadapt:target-f1=0.9,knobs=qp', cam, 40).qps);
  });
});

describe('OneAdapt with a bitrate budget', () => {
  it('keeps the windowed bitrate within the budget at the most expensive level that fits', () => {
    // 40 kB at the reference = 320 kbit/s; 0.7^i of it. A 100-kbit/s budget fits level 4
    // (76.8 kbit/s) and not level 3 (109.8).
    const cam = camera();
    const { qps } = run('oneadapt:budget-kbps=100,knobs=qp', cam, 80);
    const late = qps.slice(40);
    const kbps = late.map((qp) => (cam.bytes(QPS.indexOf(qp)) * 8) / 1000);
    const mean = kbps.reduce((s, v) => s + v, 0) / kbps.length;
    expect(mean).toBeLessThanOrEqual(100 * 1.05);
    // It spends most of the budget (not the cheapest level), dithering no further than a level.
    expect(mean).toBeGreaterThan(70);
    for (const qp of late) expect([3, 4, 5]).toContain(QPS.indexOf(qp));
  });

  it('lands a tighter budget on the level that fits it', () => {
    const cam = camera();
    const policy = oneAdaptPolicy(parseOneAdaptParams('budget-kbps=40,knobs=qp'));
    let d = policy.initial(ctx);
    const qps: number[] = [];
    for (let seq = 0; seq < 60; seq++) {
      qps.push(d.setting.qp);
      d = policy.step(d.state, feedbackAt(seq, d.setting.qp, cam, false), ctx);
    }
    // 40 kbit/s fits level 6 (37.6 kbit/s) and not level 5 (53.8).
    const late = qps.slice(30).map((qp) => (cam.bytes(QPS.indexOf(qp)) * 8) / 1000);
    expect(late.reduce((s, v) => s + v, 0) / late.length).toBeLessThanOrEqual(42);
  });
});

describe('target mode against the reference', () => {
  it('counts only the distortion beyond the reference encode\'s own as F1 lost', () => {
    const policy = policyFromSpec('oneadapt:target-f1=0.9,knobs=qp');
    const d = policy.initial(ctx);
    const terms = (recRef?: number): KnobTerms => ({ knob: 'qp', recHq: 0.03, recLq: 0.05, bwHq: 0.5, bwLq: 0.35, gpuHq: 1, gpuLq: 1, ...(recRef !== undefined ? { recRef } : {}) });
    const fb = (recRef?: number): SegmentFeedback => ({ seq: 0, setting: d.setting, bytes: 10_000, frames: 10, proxy: 1, f1: null, gradients: [terms(recRef)] });
    // Prior c = 2: against raw frames the encode loses 0.06 F1; against a reference that is
    // itself at rec 0.02, only 0.02.
    expect((policy.step(d.state, fb(), ctx).state as OneAdaptState).predictedF1).toBeCloseTo(0.94);
    expect((policy.step(d.state, fb(0.02), ctx).state as OneAdaptState).predictedF1).toBeCloseTo(0.98);
    // At the reference itself nothing is lost.
    expect((policy.step(d.state, fb(0.03), ctx).state as OneAdaptState).predictedF1).toBeCloseTo(1);
  });
});
