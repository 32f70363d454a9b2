import { describe, expect, it } from 'vitest';
import { resizeBilinear, toPlanarTensor } from '../../src/models/image.js';
import { COCO_CLASSES } from '../../src/models/coco.js';
import { fastestDetSpec } from '../../src/models/fastestdet.js';
import { proxyValue } from '../../src/models/proxy.js';
import type { Detection, ModelSpec } from '../../src/models/types.js';
import { yoloxSpec } from '../../src/models/yolox.js';

const yolox = yoloxSpec({ name: 'y', path: '/dev/null', size: 416, classNames: [...COCO_CLASSES] });

/** Proxy as a function of the raw output, through the model's own decode. */
function proxyOf(spec: ModelSpec, y: Float32Array, kept: Detection[]): number {
  const dets = spec.decode({ [spec.scoreOutput]: y }, spec.fitSize(832, 416), 832, 416);
  // Same detections (by score-map index) as the ones seeded.
  return proxyValue(dets.filter((d) => kept.some((k) => k.index === d.index)), new Set([0, 2]));
}

describe('YOLOX decode', () => {
  it('decodes an anchor into a box in frame coordinates', () => {
    const y = new Float32Array(3549 * 85);
    // Anchor in the stride-16 grid at (gx=3, gy=2): row = 52² + 2·26 + 3.
    const r = 52 * 52 + 2 * 26 + 3;
    y.set([0.5, 0.5, Math.log(2), Math.log(1)], r * 85);
    y[r * 85 + 4] = 0.9;
    y[r * 85 + 5 + 2] = 0.8;
    // Frame 832×416 letterboxed into 416: scale 0.5.
    const fit = yolox.fitSize(832, 416);
    expect(fit).toMatchObject({ width: 416, height: 208 });
    const dets = yolox.decode({ output: y }, fit, 832, 416);
    expect(dets).toHaveLength(1);
    expect(dets[0].cls).toBe(2);
    expect(dets[0].score).toBeCloseTo(0.72);
    // centre (3.5·16, 2.5·16) = (56, 40), size 32×16 in model px → ×2 in frame px.
    expect(dets[0].box.map((v) => Math.round(v))).toEqual([80, 64, 144, 96]);
    expect(dets[0].index).toBe(r * 80 + 2);
  });

  it('seeds the proxy gradient consistently with finite differences', () => {
    const y = new Float32Array(3549 * 85);
    for (const [r, obj, cls] of [[100, 0.7, 0.75], [2000, 0.6, 0.9]] as const) {
      y.set([0.3, 0.3, 0.1, 0.1, obj], r * 85);
      y[r * 85 + 5] = cls;
    }
    const fit = yolox.fitSize(832, 416);
    const dets = yolox.decode({ output: y }, fit, 832, 416);
    expect(dets).toHaveLength(2);
    const seed = yolox.proxySeed({ output: y }, dets);
    for (const i of [100 * 85 + 4, 100 * 85 + 5, 2000 * 85 + 4, 2000 * 85 + 5]) {
      const h = 1e-3;
      const up = Float32Array.from(y);
      const down = Float32Array.from(y);
      up[i] += h;
      down[i] -= h;
      const fd = (proxyOf(yolox, up, dets) - proxyOf(yolox, down, dets)) / (2 * h);
      expect(seed[i]).toBeCloseTo(fd, 2);
    }
  });
});

describe('FastestDet decode', () => {
  it('uses obj^0.6·cls^0.4 and normalised boxes', () => {
    const spec = fastestDetSpec({ name: 'f', path: '/dev/null', size: 352, classNames: [...COCO_CLASSES] });
    const cells = 22 * 22;
    const y = new Float32Array(85 * cells);
    const cell = 5 * 22 + 11;
    y[cell] = 0.8;
    y[(5 + 7) * cells + cell] = 0.9;
    // tx = ty = 0, w = h = sigmoid(0) = 0.5.
    const dets = spec.decode({ '758': y }, spec.fitSize(440, 220), 440, 220);
    expect(dets).toHaveLength(1);
    expect(dets[0].cls).toBe(7);
    expect(dets[0].score).toBeCloseTo(Math.pow(0.8, 0.6) * Math.pow(0.9, 0.4));
    expect(dets[0].box.map((v) => Math.round(v))).toEqual([Math.round((11 / 22 - 0.25) * 440), Math.round((5 / 22 - 0.25) * 220), Math.round((11 / 22 + 0.25) * 440), Math.round((5 / 22 + 0.25) * 220)]);
  });
});

describe('image helpers', () => {
  it('letterboxes BGR at the top-left with the pad value', () => {
    const frame = { width: 2, height: 1, data: new Uint8Array([10, 20, 30, 40, 50, 60]) };
    const t = toPlanarTensor(frame, { width: 3, height: 2, order: 'bgr', mean: [0, 0, 0], scale: [1, 1, 1], pad: 114 });
    // Plane 0 is blue.
    expect(Array.from(t.slice(0, 6))).toEqual([30, 60, 114, 114, 114, 114]);
    expect(Array.from(t.slice(12, 18))).toEqual([10, 40, 114, 114, 114, 114]);
  });

  it('resizes a constant image to the same constant', () => {
    const frame = { width: 7, height: 5, data: new Uint8Array(7 * 5 * 3).fill(77) };
    const out = resizeBilinear(frame, 3, 2);
    expect(out.data.every((v) => v === 77)).toBe(true);
  });
});
