import { describe, expect, it } from 'vitest';
import { awstreamPolicy } from '../../src/adapt/awstream-policy.js';
import { policyFromSpec } from '../../src/adapt/policies.js';
import { DEFAULT_SPACES, type KnobSetting } from '../../src/knobs/space.js';
import { drivePolicy, type SegmentOutcome, type StreamPort } from '../../app/comparison/drive.js';
import { cameraPoint, equalSplit, fleetOutcome, followTime, rebalanceTime, segmentOracle, staticOracle, windowExtremes, type CameraGrid } from '../../app/comparison/fleet-allocations.js';
import { withinShare } from '../../app/comparison/fleet-baselines.js';
import { parseFleetBudgets } from '../../app/comparison/fleet-bench.js';
import { driveFleet } from '../../app/comparison/fleet-drive.js';
import { fleetMarkdown } from '../../app/comparison/fleet-markdown.js';
import { cameraKbps, cameraRec, cameraSegment, seeded, syntheticCameras } from '../support/fleet-cameras.js';

/** A camera whose grid holds `configs` (kbit/s, F1) for `segments` 1-s segments, constant over time. */
function camera(video: string, configs: [number, number][], segments = 20): CameraGrid {
  return { video, segmentSeconds: 1, configs: configs.map(([kbps, f1], i) => ({ spec: `fixed:c${i}`, segments: Array.from({ length: segments }, () => ({ bytes: (kbps * 1000) / 8, f1, slots: 10 })) })) };
}

describe('fleet allocations over a measured grid', () => {
  // A hard camera (needs bits), an easy one (F1 0.95 at 10 kbit/s) and one in between.
  const cams = [
    camera('hard', [[400, 1], [200, 0.92], [100, 0.8], [40, 0.55], [20, 0.4]]),
    camera('easy', [[400, 1], [100, 0.99], [10, 0.95], [5, 0.9]]),
    camera('mid', [[300, 1], [120, 0.95], [60, 0.9], [30, 0.8], [15, 0.7]]),
  ];

  it('equal split gives every camera its best fixed configuration within budget/k', () => {
    // 50 kbit/s each: 40 for the hard camera (F1 0.55), 10 for the easy one, 30 for the middle one.
    const runs = equalSplit(cams, 150);
    expect(runs.map((r) => r.spec)).toEqual(['fixed:c3', 'fixed:c2', 'fixed:c3']);
  });

  it('the static oracle is the best joint choice within the total (checked against every combination)', () => {
    for (const budget of [60, 150, 250, 500]) {
      const runs = staticOracle(cams, budget);
      const sum = runs.reduce((s, r) => s + cameraPoint(r.segments, 1).kbps, 0);
      const f1 = runs.reduce((s, r) => s + cameraPoint(r.segments, 1).f1, 0);
      expect(sum).toBeLessThanOrEqual(budget + 1e-9);
      let best = -Infinity;
      for (const a of cams[0].configs) for (const b of cams[1].configs) for (const c of cams[2].configs) {
        const pts = [a, b, c].map((x) => cameraPoint(x.segments, 1));
        if (pts.reduce((s, p) => s + p.kbps, 0) <= budget + 1e-9) best = Math.max(best, pts.reduce((s, p) => s + p.f1, 0));
      }
      expect(f1).toBeCloseTo(best, 9);
    }
    // At 150 kbit/s the static oracle gives the hard camera 100, where an equal split gives it 40.
    expect(staticOracle(cams, 150)[0].spec).toBe('fixed:c2');
  });

  it('the per-segment oracle keeps every second within the total and reallocates when a camera leaves', () => {
    const short = [camera('hard-short', [[400, 1], [200, 0.92], [100, 0.8], [40, 0.55], [20, 0.4]], 8), cams[1], cams[2]];
    const runs = segmentOracle(short, 150);
    const o = fleetOutcome(runs, 150, 1);
    for (const t of o.totals) expect(t).toBeLessThanOrEqual(150 + 1e-6);
    // Once the short hard camera is gone the middle one gets more.
    expect(runs[2].segments[15].bytes).toBeGreaterThan(runs[2].segments[2].bytes);
    expect(o.meanF1).toBeGreaterThanOrEqual(fleetOutcome(staticOracle(short, 150), 150, 1).meanF1 - 1e-9);
  });

  it('measures 10-s windows from 5 s on, the follow time and the rebalance time', () => {
    const totals = [300, 300, 300, 300, 300, ...Array.from({ length: 15 }, (_, i) => (i < 5 ? 90 : 100))];
    const w = windowExtremes(totals, 100, 1);
    expect(w.min).toBeCloseTo(0.95);
    expect(w.max).toBeCloseTo(1);
    expect(rebalanceTime([100, 100, 60, 60, 95, 100, 100], 2, 100, 1)).toBe(2);
    const step = (from: number, to: number, at: number, n = 20) => ({ video: 'c', segments: Array.from({ length: n }, (_, t) => ({ bytes: ((t < at ? from : to) * 1000) / 8, f1: 1, slots: 10 })) });
    // The oracle moves at 10 s; a method that moves two seconds later follows in 2 s.
    expect(followTime([step(20, 80, 12)], [step(20, 80, 10)], 100, 1)).toEqual({ medianS: 2, changes: 1, followed: 1 });
    expect(followTime([step(20, 20, 12)], [step(20, 80, 10)], 100, 1).followed).toBe(0);
  });

  it('parses budgets in kbit/s and in percent', () => {
    expect(parseFleetBudgets('600,25%')).toEqual([{ kbps: 600 }, { percent: 25 }]);
    expect(() => parseFleetBudgets('0')).toThrow(/positive/);
    expect(() => parseFleetBudgets('a')).toThrow(/positive/);
  });
});

/** A synthetic camera as a bench port: bytes and gradient terms from fleet-cameras, F1 = 1 − 2·rec. */
function syntheticPort(cam: ReturnType<typeof syntheticCameras>[number], segments: number, seed: number): StreamPort {
  const rnd = seeded(seed);
  const Q = DEFAULT_SPACES.qp;
  const R = DEFAULT_SPACES.resolution;
  const f1 = (s: KnobSetting) => Math.max(0, 1 - 2 * cameraRec(cam, Q.indexOf(s.qp), R.indexOf(s.resolution)));
  const outcome = (s: KnobSetting): SegmentOutcome => ({ bytes: Math.round((cameraKbps(cam, s) * 1000) / 8), frames: 10, slots: 10, f1: f1(s), proxy: 1, inferMs: 0, encodeMs: 0 });
  return {
    segments,
    ctx: { spaces: DEFAULT_SPACES, sourceWidth: 640, sourceHeight: 360, segmentSeconds: 1 },
    evaluate: async (_seq, s) => outcome(s),
    gradients: async (_seq, s, o) => ({ terms: cameraSegment(cam, s, rnd).gradients.map((t) => ({ ...t })), probeMs: 0, gradMs: 0, proxy: o.proxy }),
    profile: async (req) => {
      const ref = outcome({ qp: 20, resolution: 1, fps: 10, roi: 0 });
      return { response: { seq: req.seq, refBytes: ref.bytes, refFrames: ref.frames, results: req.settings.map((setting) => ({ setting, ...outcome(setting) })) }, ms: 0 };
    },
  };
}

describe('the fleet simulated over the bench ports', () => {
  it('holds the total at the budget with the shared price, and gives its share away when a camera ends', async () => {
    const cams = syntheticCameras(4, 21);
    const budget = 0.2 * cams.reduce((s, c) => s + c.refKbps, 0);
    const ports = cams.map((c, i) => ({ id: `c${i}`, port: syntheticPort(c, i === 1 ? 12 : 30, i + 1) }));
    const { traces, ticks } = await driveFleet(policyFromSpec('oneadapt:knobs=qp+resolution'), ports, { kbps: budget, timeoutS: 30 });
    const runs = traces.map((t, i) => ({ video: `c${i}`, segments: t.rows.map((r) => ({ bytes: r.outcome.bytes, f1: r.outcome.f1, slots: r.outcome.slots })) }));
    const o = fleetOutcome(runs, budget, 1);
    expect(o.windowMin).toBeGreaterThan(0.85);
    expect(o.windowMax).toBeLessThan(1.15);
    // The second camera leaves after 12 s: the fleet has three members from then on.
    expect(ticks[11].members).toBe(3);
    expect(ticks[10].members).toBe(4);
    expect(ticks.at(-1)!.priceBw).toBeGreaterThan(0);
  });

  it('AWStream within a share streams its choice within the share between profiles', async () => {
    const cam = syntheticCameras(1, 3)[0];
    const share = 0.15 * cam.refKbps;
    const trace = await drivePolicy(withinShare(awstreamPolicy(''), share), syntheticPort(cam, 25, 1));
    // Every 10 s a profile streams at reference quality until its results are back (as AWStream
    // does); between, the choice fits the share.
    const chosen = trace.rows.filter((r) => r.setting.qp !== 20 || r.setting.resolution !== 1);
    expect(chosen.length).toBeGreaterThanOrEqual(2);
    for (const r of chosen) expect((r.outcome.bytes * 8) / 1000).toBeLessThanOrEqual(share + 1e-6);
    // Without the share AWStream at its λ picks something dearer.
    const free = await drivePolicy(awstreamPolicy(''), syntheticPort(cam, 25, 1));
    expect(Math.max(...free.rows.filter((r) => r.setting.qp !== 20 || r.setting.resolution !== 1).map((r) => r.outcome.bytes))).toBeGreaterThan(Math.max(...chosen.map((r) => r.outcome.bytes)));
  });

  it('writes the Fleet budgets section of summary.md', () => {
    const lines = fleetMarkdown({
      referenceF1: 0.9,
      referenceSumKbps: 200,
      videos: [{ name: 'a', segments: 30, cheapestAtReferenceF1: { spec: 'fixed:qp=28', kbps: 200, f1: 0.9 } }],
      budgets: [{ budgetKbps: 100, asked: '50%', timeline: [], rows: [{ method: 'oneadapt', label: 'OneAdapt, fleet price', meanF1: 0.9, worstF1: 0.85, kbps: 99, windowMin: 0.97, windowMax: 1.02, followS: 2, changes: 3, followed: 2, rebalanceS: null, perCamera: [{ video: 'a', kbps: 99, f1: 0.9 }] }] }],
    });
    expect(lines).toContain('## Fleet budgets');
    expect(lines.join('\n')).toMatch(/\| OneAdapt, fleet price \| 0\.900 \| 0\.850 \| 99\.0 \| 0\.97–1\.02 \| 2 \(2\/3\) \| – \|/);
    expect(fleetMarkdown(undefined)).toEqual([]);
  });
});
