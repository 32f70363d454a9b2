import { describe, expect, it } from 'vitest';
import { lag1OracleCurve, oracleCurve, type OracleVideo } from '../../app/comparison/oracle.js';
import { costAtF1, costRatioAtEqualF1, paretoFrontier } from '../../app/comparison/pareto.js';

describe('Pareto frontier', () => {
  const points = [
    { cost: 100, f1: 1 },
    { cost: 50, f1: 0.9 },
    { cost: 60, f1: 0.85 }, // dominated by (50, 0.9)
    { cost: 20, f1: 0.6 },
    { cost: 20, f1: 0.5 }, // dominated by (20, 0.6)
    { cost: 120, f1: 1 }, // dominated by (100, 1)
  ];

  it('keeps the non-dominated points, cheapest first', () => {
    expect(paretoFrontier(points).map((p) => [p.cost, p.f1])).toEqual([
      [20, 0.6],
      [50, 0.9],
      [100, 1],
    ]);
  });

  it('interpolates the cost linearly in F1 between frontier points, null outside', () => {
    const f = paretoFrontier(points);
    expect(costAtF1(f, 0.9)).toBeCloseTo(50);
    expect(costAtF1(f, 0.75)).toBeCloseTo(35); // halfway from (20, 0.6) to (50, 0.9)
    expect(costAtF1(f, 0.95)).toBeCloseTo(75);
    expect(costAtF1(f, 0.5)).toBeNull();
    expect(costAtF1([], 0.9)).toBeNull();
  });

  it('divides a cost by the frontier cost at the same F1', () => {
    const f = paretoFrontier(points);
    expect(costRatioAtEqualF1(28, 0.75, f)).toBeCloseTo(0.8);
    expect(costRatioAtEqualF1(28, 0.4, f)).toBeNull();
  });
});

describe('oracles from per-segment grid results', () => {
  // Two 1-s segments of 10 slots; the reference "R" first. Segment 0 is easy (cheap "C" is
  // perfect), segment 1 is hard (C loses half its F1).
  const video: OracleVideo = {
    durationS: 2,
    segments: [
      { slots: 10, options: [{ key: 'R', bytes: 1000, frames: 10, f1: 1 }, { key: 'C', bytes: 250, frames: 10, f1: 1 }] },
      { slots: 10, options: [{ key: 'R', bytes: 1000, frames: 10, f1: 1 }, { key: 'C', bytes: 250, frames: 10, f1: 0.5 }] },
    ],
  };
  const kbps = (bytes: number) => (bytes * 8) / 1000 / 2;

  it('lets each segment pick its own best configuration', () => {
    const f = paretoFrontier(oracleCurve([video], 'bytes'));
    // C on the easy segment, R on the hard one: F1 1 at 1250 bytes (fixed R needs 2000).
    expect(f.map((p) => [p.cost, p.f1])).toEqual([
      [kbps(500), 0.75],
      [kbps(1250), 1],
    ]);
  });

  it('makes the lag-1 oracle use the previous segment’s best choice (reference first)', () => {
    const f = paretoFrontier(lag1OracleCurve([video], 'bytes'));
    // Segment 0 at R; segment 1 takes segment 0's best: R when cost is free, else C.
    expect(f.map((p) => [p.cost, p.f1])).toEqual([
      [kbps(1250), 0.75],
      [kbps(2000), 1],
    ]);
  });
});
