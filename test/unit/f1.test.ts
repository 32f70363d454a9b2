import { describe, expect, it } from 'vitest';
import { expandToSlots, frameF1, segmentF1 } from '../../src/accuracy/f1.js';
import type { Detection } from '../../src/models/types.js';

const det = (cls: number, x: number, score = 0.9): Detection => ({ cls, score, box: [x, 0, x + 10, 10], index: 0 });

describe('F1 against reference detections', () => {
  it('matches by class and IoU > 0.5', () => {
    expect(frameF1([det(2, 0)], [det(2, 0)]).f1).toBe(1);
    expect(frameF1([det(2, 0)], [det(7, 0)])).toMatchObject({ tp: 0, fp: 1, fn: 1, f1: 0 });
    // Shifted by 4 px: IoU = 6/14 < 0.5 → miss; by 2 px: IoU = 8/12 > 0.5 → hit.
    expect(frameF1([det(2, 4)], [det(2, 0)]).f1).toBe(0);
    expect(frameF1([det(2, 2)], [det(2, 0)]).f1).toBe(1);
    expect(frameF1([det(2, 0), det(2, 50)], [det(2, 0)])).toMatchObject({ tp: 1, fp: 1, fn: 0 });
    expect(frameF1([det(2, 0), det(2, 50)], [det(2, 0)]).f1).toBeCloseTo(2 / 3);
  });

  it('counts two empty frames as agreement and one-sided emptiness as zero', () => {
    expect(frameF1([], []).f1).toBe(1);
    expect(frameF1([], [det(0, 0)]).f1).toBe(0);
  });

  it('reuses the previous result for frames not inferred', () => {
    const a = [det(2, 0)];
    const b = [det(2, 100)];
    expect(expandToSlots([a, b], 4)).toEqual([a, a, b, b]);
    // 2 fps out of 4 slots, the object moved in slot 1: slot 1 reuses slot 0's stale box.
    const reference = [a, b, b, b];
    expect(segmentF1([a, b], reference)).toBeCloseTo((1 + 0 + 1 + 1) / 4);
  });

  it('restricts to the classes of interest', () => {
    expect(segmentF1([[det(2, 0), det(40, 30)]], [[det(2, 0)]], new Set([2]))).toBe(1);
  });

  it('counts only objects above the decision threshold, on both sides', () => {
    const weak = { ...det(2, 60), score: 0.4 };
    const strong = { ...det(2, 0), score: 0.9 };
    // A weak extra box on either side is no error at 0.5, and is one at the output threshold.
    expect(segmentF1([[strong, weak]], [[strong]], new Set([2]), 0.5)).toBe(1);
    expect(segmentF1([[strong]], [[strong, weak]], new Set([2]), 0.5)).toBe(1);
    expect(segmentF1([[strong, weak]], [[strong]], new Set([2]))).toBeCloseTo(2 / 3);
    expect(segmentF1([[weak]], [[strong]], new Set([2]), 0.5)).toBe(0);
  });
});
