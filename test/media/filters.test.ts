import { describe, expect, it } from 'vitest';
import { fpsFilter, resampledFrameCount, scaleFilter, targetSize } from '../../src/media/filters.js';

describe('targetSize', () => {
  const source = { width: 960, height: 540 };

  it('keeps the source size when nothing is asked', () => {
    expect(targetSize(source, {})).toEqual(source);
  });

  it('uses both dimensions when both are given', () => {
    expect(targetSize(source, { width: 320, height: 320 })).toEqual({ width: 320, height: 320 });
  });

  it('follows the aspect ratio with an even other side', () => {
    expect(targetSize(source, { width: 320 })).toEqual({ width: 320, height: 180 });
    expect(targetSize(source, { width: 100 })).toEqual({ width: 100, height: 56 });
    expect(targetSize(source, { height: 240 })).toEqual({ width: 426, height: 240 });
  });

  it('rejects non-integer sizes', () => {
    expect(() => targetSize(source, { width: 10.5 })).toThrow('width must be a positive integer, got 10.5');
  });
});

describe('filters', () => {
  it('uses one scaler everywhere', () => {
    expect(scaleFilter(160, 120)).toBe('scale=160:120:flags=bicubic');
  });

  it('rejects non-positive fps', () => {
    expect(fpsFilter(2.5)).toBe('fps=2.5');
    expect(() => fpsFilter(0)).toThrow('fps must be a positive number, got 0');
  });

  it('counts resampled frames, keeping at least one', () => {
    expect(resampledFrameCount(10, 10, 5)).toBe(5);
    expect(resampledFrameCount(25, 25, 10)).toBe(10);
    expect(resampledFrameCount(10, 25, 3)).toBe(1);
    expect(resampledFrameCount(1, 25, 1)).toBe(1);
  });
});
