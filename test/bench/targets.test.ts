import { describe, expect, it } from 'vitest';
import { calibrationScore, spearman } from '../../app/comparison/calibration-score.js';
import type { RunResult, VideoRun } from '../../app/comparison/summary.js';
import { constrainedRows } from '../../app/comparison/targets.js';

/** One 2-segment video run at a constant bytes/segment and F1; `audit` bytes inside the total. */
function video(bytesPerSegment: number, f1: number, audit = 0): VideoRun {
  const seg = (seq: number) => ({ seq, setting: { qp: 20, resolution: 1, fps: 10, roi: 0 }, bytes: bytesPerSegment, frames: 10, slots: 10, f1, auditBytes: audit });
  return { video: 'cam', durationS: 2, segments: [seg(0), seg(1)], map: f1, overheadMs: 0, profileFrames: 0, adaptationDelaysS: [] };
}

const fixedRun = (spec: string, bytes: number, f1: number): RunResult => ({ spec, family: 'fixed', lambda: null, resource: null, grid: true, map: f1, videos: [video(bytes, f1)] });

describe('target and budget rows', () => {
  // kbit/s = bytes·8/1000 per 1-s segment: 10000 B → 80 kbit/s.
  const grid = [fixedRun('fixed:qp=20', 10_000, 1), fixedRun('fixed:qp=28', 5_000, 0.93), fixedRun('fixed:qp=32', 3_000, 0.9), fixedRun('fixed:qp=36', 2_000, 0.85)];

  it('compares a target run with the cheapest fixed configuration reaching its F1 and the target', () => {
    const run: RunResult = { spec: 'oneadapt:target-f1=0.9', family: 'oneadapt', lambda: null, resource: 'bw', grid: false, map: 0.9, videos: [video(3_500, 0.91, 500)] };
    const { targets, budgets } = constrainedRows([...grid, run]);
    expect(budgets).toEqual([]);
    expect(targets).toHaveLength(1);
    const t = targets[0];
    expect(t.f1).toBeCloseTo(0.91);
    expect(t.kbps).toBeCloseTo(28);
    expect(t.auditShare).toBeCloseTo(500 / 3_500);
    // F1 0.91: QP 32 (0.90) does not reach it, QP 28 does; the target 0.9 is reached by QP 32.
    expect(t.fixedAtF1?.spec).toBe('fixed:qp=28');
    expect(t.fixedAtTarget?.spec).toBe('fixed:qp=32');
  });

  it('compares a budget run with the most accurate fixed configuration within the budget', () => {
    const run: RunResult = { spec: 'oneadapt:budget-kbps=30', family: 'oneadapt', lambda: null, resource: 'bw', grid: false, map: 0.9, videos: [video(3_700, 0.92)] };
    const { budgets } = constrainedRows([...grid, run]);
    // 30 kbit/s = 3750 B per segment: QP 32 (3000 B) fits, QP 28 (5000 B) does not.
    expect(budgets[0].fixedWithin?.spec).toBe('fixed:qp=32');
    expect(budgets[0].kbps).toBeCloseTo(29.6);
  });
});

describe('the calibration score', () => {
  it('is a rank correlation: 1 for the same order, −1 for the reverse, ties averaged', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1);
    expect(spearman([1, 1, 2], [1, 2, 3])).toBeCloseTo(0.866, 2);
    expect(spearman([1, 2], [1, 2])).toBeNull();
  });

  it('scores predictions against realised one-step losses and decisions', () => {
    const s = calibrationScore([
      { predictedLoss: 0.01, realisedLoss: 0.02, predictedGain: 0.05, realisedGain: 0.04 },
      { predictedLoss: 0.05, realisedLoss: 0.04, predictedGain: -0.01, realisedGain: 0.01 },
      { predictedLoss: 0.1, realisedLoss: 0.2, predictedGain: -0.05, realisedGain: -0.1 },
    ]);
    expect(s.pairs).toBe(3);
    expect(s.rankCorrelation).toBeCloseTo(1);
    expect(s.meanAbsError).toBeCloseTo((0.01 + 0.01 + 0.1) / 3);
    // The second decision (stay) was wrong in hindsight: going cheaper paid.
    expect(s.signRight).toBeCloseTo(2 / 3);
  });
});
