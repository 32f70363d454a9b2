import { describe, expect, it } from 'vitest';
import { awstreamPolicy } from '../../src/adapt/awstream-policy.js';
import { chameleonPolicy } from '../../src/adapt/chameleon-policy.js';
import type { Policy, ProfileRequest } from '../../src/adapt/policy.js';
import { applyFromSeq, profilingDelayS, profileObjective } from '../../src/adapt/profiling.js';
import { drivePolicy, type SegmentOutcome, type StreamPort } from '../../app/comparison/drive.js';
import { DEFAULT_SPACES, type KnobSetting } from '../../src/knobs/space.js';

/** A stream whose outcomes come from a table: bytes and F1 as functions of the setting. */
function tablePort(segments: number, table: (s: KnobSetting) => { bytes: number; f1: number }, requests: ProfileRequest[] = []): StreamPort {
  const outcome = (s: KnobSetting): SegmentOutcome => ({ ...table(s), frames: s.fps, slots: 10, proxy: 0, inferMs: 0, encodeMs: 0 });
  return {
    segments,
    ctx: { spaces: DEFAULT_SPACES, sourceWidth: 320, sourceHeight: 240, segmentSeconds: 1 },
    evaluate: async (_seq, s) => outcome(s),
    gradients: async () => ({ terms: [], probeMs: 0, gradMs: 0, proxy: 0 }),
    profile: async (req) => {
      requests.push(req);
      const ref = outcome({ qp: 20, resolution: 1, fps: 10, roi: 0 });
      return { response: { seq: req.seq, refBytes: ref.bytes, refFrames: ref.frames, results: req.settings.map((setting) => ({ setting, ...outcome(setting), frames: setting.fps })) }, ms: 1 };
    },
  };
}

describe('profiling delay accounting', () => {
  it('takes ceil(frames profiled / spare frames per s) seconds', () => {
    expect(profilingDelayS(130, 20)).toBe(7);
    expect(profilingDelayS(120, 20)).toBe(6);
    expect(profilingDelayS(0, 20)).toBe(0);
    expect(() => profilingDelayS(10, 0)).toThrow(/positive/);
  });

  it('steers the segment after the profiled one plus the delay', () => {
    expect(applyFromSeq(0, 0)).toBe(1);
    expect(applyFromSeq(0, 7)).toBe(8);
    expect(applyFromSeq(10, 3, 2)).toBe(13); // 3 s of 2-s segments: two segments wait
  });

  it('prices bytes or frames against (1 − F1)', () => {
    const ref = { refBytes: 1000, refFrames: 10 };
    expect(profileObjective({ setting: { qp: 32, resolution: 1, fps: 5, roi: 0 }, bytes: 300, frames: 5, f1: 0.9 }, ref, 0.2, 'bw')).toBeCloseTo(0.16);
    expect(profileObjective({ setting: { qp: 32, resolution: 1, fps: 5, roi: 0 }, bytes: 300, frames: 5, f1: 0.9 }, ref, 0.2, 'gpu')).toBeCloseTo(0.2);
  });
});

describe('AWStream-style policy', () => {
  // Reference 1000 bytes at F1 1; QP 32 300 bytes at F1 0.9: with λ = 0.2, 0.1 + 0.06 < 0.2.
  const table = (s: KnobSetting) => (s.qp === 20 ? { bytes: 1000, f1: 1 } : { bytes: 300, f1: 0.9 });

  it('streams at reference while profiling and waiting, and charges those bytes', async () => {
    const requests: ProfileRequest[] = [];
    // One candidate (QP 32) of 10 frames, 10 spare frames/s: results 1 s after the profiled segment.
    const policy = awstreamPolicy('lambda=0.2,period=6,spare=10,qp=20+32,resolution=1,fps=10') as Policy;
    const trace = await drivePolicy(policy, tablePort(12, table, requests));
    expect(trace.rows.map((r) => r.setting.qp)).toEqual([20, 20, 32, 32, 32, 32, 20, 20, 32, 32, 32, 32]);
    expect(trace.rows.reduce((s, r) => s + r.outcome.bytes, 0)).toBe(4 * 1000 + 8 * 300);
    expect(requests.map((r) => [r.seq, r.settings.length])).toEqual([[0, 1], [6, 1]]);
    expect(trace.adaptationDelaysS).toEqual([2, 2]);
    expect(trace.rows.map((r) => r.profileFrames)).toEqual([10, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0]);
  });

  it('defaults the spare capacity to twice the reference frame rate', async () => {
    // 2 candidates × 10 frames = 20 frames at 20 frames/s: 1 s.
    const policy = awstreamPolicy('lambda=0.2,period=100,qp=20+32+36,resolution=1,fps=10') as Policy;
    const trace = await drivePolicy(policy, tablePort(4, table));
    expect(trace.rows.map((r) => r.setting.qp)).toEqual([20, 20, 32, 32]);
  });

  it('keeps the reference when cost is free', async () => {
    const trace = await drivePolicy(awstreamPolicy('lambda=0,spare=1000,qp=20+32,resolution=1,fps=10') as Policy, tablePort(3, table));
    expect(trace.rows.map((r) => r.setting.qp)).toEqual([20, 20, 20]);
  });
});

describe('Chameleon-style policy', () => {
  it('profiles one knob at a time from the best so far, adding up the frames', async () => {
    // Cheaper QP costs little accuracy; halving the resolution costs more than it saves.
    const table = (s: KnobSetting) => ({ bytes: (1000 * s.resolution * 20) / s.qp, f1: 1 - (s.qp - 20) / 200 - (1 - s.resolution) * 0.5 });
    const requests: ProfileRequest[] = [];
    const policy = chameleonPolicy('lambda=0.5,period=100,spare=10,qp=20+32+44,resolution=1+0.5,fps=10') as Policy;
    const trace = await drivePolicy(policy, tablePort(6, table, requests));
    // Round 1: QP 32 and 44 (20 frames); round 2: resolution 0.5 at the best QP (10 frames).
    expect(requests.map((r) => r.settings.map((s) => [s.qp, s.resolution]))).toEqual([
      [[32, 1], [44, 1]],
      [[44, 0.5]],
    ]);
    // 30 frames at 10 frames/s: 3 s, so segments 1–3 wait at reference and segment 4 adapts.
    expect(trace.rows.map((r) => r.setting.qp)).toEqual([20, 20, 20, 20, 44, 44]);
    expect(trace.rows[4].setting.resolution).toBe(1);
    expect(trace.adaptationDelaysS).toEqual([4]);
  });
});
