import { describe, expect, it } from 'vitest';
import { letterboxTransform, saliencyFromGradient } from '../../src/autodiff/saliency.js';

describe('saliencyFromGradient', () => {
  it('identity transform: Σ_c |dX| averaged per 16×16 block, partial edge blocks', () => {
    const W = 20, H = 17;
    const dx = new Float32Array(3 * W * H);
    dx[0] = -2; // channel 0, pixel (0,0)
    dx[W * H + 0] = 1; // channel 1, pixel (0,0)
    dx[2 * W * H + (16 * W + 19)] = -4; // channel 2, pixel (19,16): last block (1 × 4 pixels)
    const s = saliencyFromGradient(dx, [1, 3, H, W], W, H, { scaleX: 1, scaleY: 1, padX: 0, padY: 0 });
    expect([s.cols, s.rows]).toEqual([2, 2]);
    expect(s.data[0]).toBeCloseTo(3 / 256);
    expect(s.data[1]).toBe(0);
    expect(s.data[3]).toBeCloseTo(4 / 4);
  });
  it('letterbox: model pixels map back to frame pixels, scaled by the resize area', () => {
    // 64×32 frame → 32×32 model, scale ½, padded at the bottom.
    const t = letterboxTransform(64, 32, 32, 32);
    expect(t).toEqual({ scaleX: 0.5, scaleY: 0.5, padX: 0, padY: 0 });
    const dx = new Float32Array(3 * 32 * 32).fill(0);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) dx[y * 32 + x] = 1; // model 8×8 = frame 16×16 top-left block
    dx[31 * 32 + 31] = 100; // inside the padding: not part of the frame
    const s = saliencyFromGradient(dx, [1, 3, 32, 32], 64, 32, t);
    expect([s.cols, s.rows]).toEqual([4, 2]);
    expect(s.data[0]).toBeCloseTo(0.25);
    expect([...s.data.slice(1)].every((v) => v === 0)).toBe(true);
  });
  it('padding offset shifts the lookup', () => {
    const dx = new Float32Array(1 * 4 * 4);
    dx[1 * 4 + 2] = 8; // model (2,1)
    const s = saliencyFromGradient(dx, [1, 1, 4, 4], 2, 2, { scaleX: 1, scaleY: 1, padX: 2, padY: 1 });
    expect(s.data[0]).toBeCloseTo(8 / 4);
  });
});
