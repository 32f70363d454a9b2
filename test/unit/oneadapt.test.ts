import { describe, expect, it } from 'vitest';
import { knobGradient, knobTerms } from '../../src/adapt/accgrad.js';
import { adamStep, ZERO_MOMENTS } from '../../src/adapt/adam.js';
import { macroblockDistortion } from '../../src/adapt/distortion.js';
import { EMPTY_FLOOR, oneAdaptPolicy, parseOneAdaptParams, type OneAdaptState } from '../../src/adapt/oneadapt-policy.js';
import type { Probe, ProbeVariant } from '../../src/adapt/inputgrad-probe.js';
import type { PolicyContext, SegmentFeedback } from '../../src/adapt/policy.js';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';
import { settingFromState } from '../../src/knobs/state.js';

const ctx: PolicyContext = { spaces: DEFAULT_SPACES, sourceWidth: 32, sourceHeight: 16 };
const params = parseOneAdaptParams('wrec=1,lambda=0.01,lr=0.5');

/** A 32×16 source: two macroblocks, left and right. */
function probe(distortion: Record<'current' | 'qp' | 'resolution' | 'fps', [number, number]>, qp: number): Probe {
  const v = (d: [number, number], bytes: number, fps = 10): ProbeVariant => ({ qp, resolution: 1, fps, bytes, distortion: d });
  return {
    seq: 0,
    width: 32,
    height: 16,
    frames: 10,
    refBytes: 1000,
    refFps: 10,
    current: v(distortion.current, 800),
    cheaper: { qp: v(distortion.qp, 600), resolution: v(distortion.resolution, 700), fps: v(distortion.fps, 700, 8) },
  };
}

function feedback(p: Probe, saliency: number[]): SegmentFeedback {
  return { seq: 0, setting: { qp: 20, resolution: 1, fps: 10, roi: 0 }, bytes: 800, frames: 10, proxy: 1, f1: null, gradients: knobTerms(p, saliency) };
}

describe('AccGrad', () => {
  it('is the saliency-weighted distortion difference plus the resource saving', () => {
    const p = probe({ current: [255, 0], qp: [2550, 0], resolution: [255, 255], fps: [255, 0] }, 20);
    const [qp] = knobTerms(p, [1, 0]);
    // Saliency-weighted per-pixel distortion per frame: Σ S·D/255 / (Σ S · 256 px · 10 frames).
    const pixels = 256 * 10;
    expect(qp.recHq).toBeCloseTo(1 / pixels);
    expect(qp.recLq).toBeCloseTo(10 / pixels);
    // Scaling the saliency changes nothing; only where it points matters.
    expect(knobTerms(p, [4, 0])[0].recLq).toBeCloseTo(10 / pixels);
    expect([qp.bwHq, qp.bwLq]).toEqual([0.8, 0.6]);
    // g = (N − 1)·[w·(rec_HQ − rec_LQ) + λ·(bw_HQ − bw_LQ)], N = 8 QP levels.
    expect(knobGradient(qp, 8, { wRec: 1, lambdaBw: 0.01, lambdaGpu: 0 })).toBeCloseTo(7 * (-9 / pixels + 0.002));
    expect(knobGradient(qp, 8, { wRec: 1, lambdaBw: 0.01, lambdaGpu: 0 })).toBeLessThan(0);
  });

  it('sums per-macroblock distortion over frames, reusing frames at a lower rate', () => {
    const frame = (v: number) => ({ width: 32, height: 16, data: new Uint8Array(32 * 16 * 3).fill(v) });
    const ref = [frame(10), frame(20)];
    // One variant frame for two slots: |10−10|·… + |10−20|·3 channels·256 pixels per block.
    expect(Array.from(macroblockDistortion([frame(10)], ref))).toEqual([10 * 3 * 256, 10 * 3 * 256]);
  });
});

describe('OneAdapt policy', () => {
  it('drifts QP and resolution to a watch floor while nothing is salient, and holds the rest', () => {
    const policy = oneAdaptPolicy(params);
    const start: OneAdaptState = { ...policy.initial(ctx).state, x: { qp: 0.8, resolution: 0.55, fps: 0.9, roi: 1 } };
    const p = probe({ current: [100, 100], qp: [900, 900], resolution: [900, 900], fps: [900, 900] }, 28);
    // Zero saliency: nothing of interest where the DNN looked; the saving alone would pull every
    // knob to its cheapest and bet the first object to appear on it.
    let state = start;
    for (let i = 0; i < 10; i++) state = policy.step(state, feedback(p, [0, 0]), ctx).state;
    expect(state.x).toEqual({ qp: EMPTY_FLOOR, resolution: EMPTY_FLOOR, fps: 0.9, roi: 1 });
    expect(state.moments).toEqual(start.moments);
    // Half a step per empty segment, never below the floor.
    expect(policy.step(start, feedback(p, [0, 0]), ctx).state.x.qp).toBeCloseTo(0.8 - params.lr / 2);
    // The same probe with something salient moves the knobs on the gradient again.
    expect(policy.step(state, feedback(p, [1, 1]), ctx).state.x.fps).not.toBe(0.9);
  });

  it('moves a knob toward quality when its cheaper variant destroys the salient macroblocks', () => {
    const policy = oneAdaptPolicy(params);
    const start: OneAdaptState = { ...policy.initial(ctx).state, x: { qp: 0.5, resolution: 0.5, fps: 0.5, roi: 0.5 } };
    // The QP step ruins the salient left block; resolution and fps only touch the right one.
    const p = probe({ current: [0, 0], qp: [200_000, 0], resolution: [0, 200_000], fps: [0, 200_000] }, 32);
    const next = policy.step(start, feedback(p, [1, 0]), ctx);
    expect(next.state.x.qp).toBeGreaterThan(0.5);
    expect(next.state.x.resolution).toBeLessThan(0.5);
    expect(next.state.x.fps).toBeLessThan(0.5);
  });

  it('keeps its state when a segment brings no gradient', () => {
    const policy = oneAdaptPolicy(params);
    const { state } = policy.initial(ctx);
    const fb: SegmentFeedback = { seq: 0, setting: { qp: 20, resolution: 1, fps: 10, roi: 0 }, bytes: 1, frames: 10, proxy: 0, f1: null };
    expect(policy.step(state, fb, ctx).state).toEqual(state);
  });

  it('round-trips its state through JSON (as the coordinator stores it in Redis)', () => {
    const policy = oneAdaptPolicy(params);
    const p = probe({ current: [0, 0], qp: [10, 10], resolution: [10, 10], fps: [10, 10] }, 20);
    const a = policy.step(policy.initial(ctx).state, feedback(p, [1, 0]), ctx);
    const restored = JSON.parse(JSON.stringify(a.state)) as OneAdaptState;
    expect(restored).toEqual(a.state);
    expect(settingFromState(restored.x, DEFAULT_SPACES)).toEqual(a.setting);
    expect(policy.step(restored, feedback(p, [1, 0]), ctx)).toEqual(policy.step(a.state, feedback(p, [1, 0]), ctx));
  });

  it('rejects unknown parameters', () => {
    expect(() => parseOneAdaptParams('speed=3')).toThrow(/bad oneadapt parameter "speed=3"/);
    expect(() => parseOneAdaptParams('knobs=qp+zoom')).toThrow(/knobs is a \+ list/);
    expect(parseOneAdaptParams('lambda=0.5,knobs=qp').knobs).toEqual(['qp']);
  });

  it('rejects values outside where a parameter means something, saying the range', () => {
    // β = 1 would divide by zero in Adam's bias correction: NaN knobs.
    expect(() => parseOneAdaptParams('beta1=1')).toThrow(/"beta1=1": beta1 must be in \[0, 1\)/);
    expect(() => parseOneAdaptParams('beta2=1.5')).toThrow(/beta2 must be in \[0, 1\)/);
    expect(() => parseOneAdaptParams('lr=0')).toThrow(/lr must be in \(0, 1\]/);
    expect(() => parseOneAdaptParams('start=0')).toThrow(/start must be in \(0, 1\]/);
    expect(() => parseOneAdaptParams('lambda=-1')).toThrow(/lambda must be ≥ 0/);
    expect(() => parseOneAdaptParams('lambda=')).toThrow(/expected .*=<number>/);
    expect(parseOneAdaptParams('beta1=0,beta2=0.99,lr=1,start=0.5').beta2).toBe(0.99);
  });
});

describe('Adam', () => {
  it('takes a first step of lr against the gradient sign, then follows the moments', () => {
    const c = { lr: 0.5, beta1: 0.5, beta2: 0.5, eps: 1e-8 };
    const a = adamStep(ZERO_MOMENTS, 3, c);
    expect(a.delta).toBeCloseTo(-0.5);
    expect(a.moments).toEqual({ m: 1.5, v: 4.5, t: 1 });
    const b = adamStep(a.moments, -3, c);
    // m = −0.75, v = 6.75; bias-corrected m̂ = −1, v̂ = 9: a step of lr/3 the other way.
    expect(b.moments).toEqual({ m: -0.75, v: 6.75, t: 2 });
    expect(b.delta).toBeCloseTo(0.5 / 3);
  });
});
