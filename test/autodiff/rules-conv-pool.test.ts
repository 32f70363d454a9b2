import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/autodiff/onnx-io.js';
import { buildVjpModel } from '../../src/autodiff/vjp.js';
import { I64, W, modelBytes, node, vjpError } from './helpers.js';

const TOL = 1e-2;

describe('Conv / ConvTranspose', () => {
  const cases: [string, Record<string, number[] | number | string>, number[], number[], number[]][] = [
    ['stride 1, pads 1', { pads: [1, 1, 1, 1] }, [1, 3, 9, 9], [4, 3, 3, 3], [1, 4, 9, 9]],
    ['stride 2, asymmetric pads', { strides: [2, 2], pads: [1, 0, 0, 1] }, [1, 3, 10, 9], [4, 3, 3, 3], [1, 4, 5, 4]],
    ['dilation 2', { dilations: [2, 2], pads: [2, 2, 2, 2] }, [1, 2, 8, 8], [3, 2, 3, 3], [1, 3, 8, 8]],
    ['groups 2', { group: 2, pads: [1, 1, 1, 1] }, [1, 4, 7, 7], [6, 2, 3, 3], [1, 6, 7, 7]],
    ['depthwise stride 2', { group: 4, strides: [2, 2], pads: [1, 1, 1, 1] }, [1, 4, 8, 8], [4, 1, 3, 3], [1, 4, 4, 4]],
    ['auto_pad SAME_UPPER stride 2', { auto_pad: 'SAME_UPPER', strides: [2, 2] }, [1, 2, 7, 7], [3, 2, 4, 4], [1, 3, 4, 4]],
    ['5x5 with stride 3 and odd size', { strides: [3, 3], pads: [2, 2, 2, 2] }, [1, 2, 11, 11], [2, 2, 5, 5], [1, 2, 4, 4]],
    // Grouped strided convs take the Resize-grid + stride-1 Conv path.
    ['groups 2, stride 2, odd size, asymmetric pads', { group: 2, strides: [2, 2], pads: [1, 0, 0, 1] }, [1, 4, 9, 7], [6, 2, 3, 3], [1, 6, 4, 3]],
    ['depthwise 5x5 stride 2, odd size', { group: 3, strides: [2, 2], pads: [2, 2, 2, 2] }, [1, 3, 11, 11], [3, 1, 5, 5], [1, 3, 6, 6]],
    ['depthwise stride 2, no pads', { group: 2, strides: [2, 2] }, [1, 2, 8, 8], [2, 1, 3, 3], [1, 2, 3, 3]],
    ['depthwise 2x2 stride 3', { group: 2, strides: [3, 3], pads: [0, 0, 0, 0] }, [1, 2, 10, 10], [2, 1, 2, 2], [1, 2, 3, 3]],
  ];
  for (const [name, attrs, x, w, y] of cases) {
    it(name, async () => {
      const err = await vjpError({ nodes: [node('Conv', ['X', 'W', 'B'], ['Y'], attrs)], inits: [W('W', w), W('B', [w[0]])], x, y });
      expect(err).toBeLessThan(TOL);
    });
  }
  it('Conv after SpaceToDepth (YOLOX stem): forward folded into one 6x6 stride-2 Conv, backward unchanged', async () => {
    const spec = {
      nodes: [node('SpaceToDepth', ['X'], ['S'], { blocksize: 2 }), node('Conv', ['S', 'W', 'B'], ['Y'], { kernel_shape: [3, 3], pads: [1, 0, 1, 2] })],
      inits: [W('W', [4, 8, 3, 3]), W('B', [4])], x: [1, 2, 8, 6], y: [1, 4, 4, 3],
    };
    expect(await vjpError(spec)).toBeLessThan(TOL);
    const fwd = (decodeModel(buildVjpModel(modelBytes(spec))).graph?.node ?? []).filter((n) => !(n.name ?? '').startsWith('vjp/'));
    expect(fwd.map((n) => n.opType)).toEqual(['Conv']);
  });
  it('ConvTranspose stride 2 with groups and output_padding', async () => {
    const err = await vjpError({
      nodes: [node('ConvTranspose', ['X', 'W'], ['Y'], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1], group: 2 })],
      inits: [W('W', [4, 3, 3, 3])], x: [1, 4, 5, 5], y: [1, 6, 10, 10],
    });
    expect(err).toBeLessThan(TOL);
  });
});

describe('pooling', () => {
  it('MaxPool 3x3 stride 2 pad 1 (overlapping windows)', async () => {
    expect(await vjpError({ nodes: [node('MaxPool', ['X'], ['Y'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })], x: [1, 3, 8, 8], y: [1, 3, 4, 4] })).toBeLessThan(TOL);
  });
  it('MaxPool 5x5 stride 1 (SPP)', async () => {
    expect(await vjpError({ nodes: [node('MaxPool', ['X'], ['Y'], { kernel_shape: [5, 5], strides: [1, 1], pads: [2, 2, 2, 2] })], x: [1, 2, 6, 6], y: [1, 2, 6, 6] })).toBeLessThan(TOL);
  });
  it('MaxPool larger than 3x3 (separable backward): 13x13 stride 1, 3x5 stride 2 ceil_mode with asymmetric pads', async () => {
    expect(await vjpError({ nodes: [node('MaxPool', ['X'], ['Y'], { kernel_shape: [13, 13], strides: [1, 1], pads: [6, 6, 6, 6] })], x: [1, 2, 7, 9], y: [1, 2, 7, 9] })).toBeLessThan(TOL);
    expect(await vjpError({ nodes: [node('MaxPool', ['X'], ['Y'], { kernel_shape: [3, 5], strides: [2, 2], pads: [1, 2, 0, 1], ceil_mode: 1 })], x: [1, 2, 8, 9], y: [1, 2, 4, 5] })).toBeLessThan(TOL);
  });
  it('MaxPool ceil_mode', async () => {
    expect(await vjpError({ nodes: [node('MaxPool', ['X'], ['Y'], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 })], x: [1, 2, 7, 7], y: [1, 2, 4, 4] })).toBeLessThan(TOL);
  });
  it('MaxPool after Relu: ties at zero split, still a valid gradient', async () => {
    expect(await vjpError({ nodes: [node('Relu', ['X'], ['R']), node('MaxPool', ['R'], ['Y'], { kernel_shape: [2, 2], strides: [2, 2] })], x: [1, 2, 6, 6], y: [1, 2, 3, 3] })).toBeLessThan(TOL);
  });
  it('MaxPool 3x3 stride 2 pad 1 after Relu (FastestDet stem: no padding penalty needed)', async () => {
    // Distinct values ≥ 0.005 away from 0 and from each other (no kinks within ε); over half are negative, so
    // some windows (border ones included) are all zeros after the Relu.
    const xValues = Float32Array.from({ length: 192 }, (_, i) => ((i * 67) % 192 - 110) * 0.013 + 0.005);
    expect(await vjpError({ nodes: [node('Relu', ['X'], ['R']), node('MaxPool', ['R'], ['Y'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })], x: [1, 3, 8, 8], y: [1, 3, 4, 4], xValues })).toBeLessThan(TOL);
  });
  it('SPP (parallel 5/9/13 MaxPools of one tensor) rewritten as a cascade: same forward, valid gradient', async () => {
    const pool = (k: number, out: string): ReturnType<typeof node> => node('MaxPool', ['X'], [out], { kernel_shape: [k, k], strides: [1, 1], pads: Array(4).fill((k - 1) / 2) });
    expect(await vjpError({
      nodes: [pool(5, 'P5'), pool(13, 'P13'), pool(9, 'P9'), node('Concat', ['X', 'P5', 'P9', 'P13'], ['Y'], { axis: 1 })],
      x: [1, 2, 7, 9], y: [1, 8, 7, 9],
    })).toBeLessThan(TOL);
    const spec = { nodes: [pool(5, 'P5'), pool(13, 'P13'), pool(9, 'P9'), node('Concat', ['X', 'P5', 'P9', 'P13'], ['Y'], { axis: 1 })], x: [1, 2, 7, 9], y: [1, 8, 7, 9] };
    const forwardPools = (decodeModel(buildVjpModel(modelBytes(spec))).graph?.node ?? []).filter((n) => n.opType === 'MaxPool' && !(n.name ?? '').startsWith('vjp/'));
    expect(forwardPools.map((n) => (n.attribute ?? []).find((a) => a.name === 'kernel_shape')?.ints?.map(Number))).toEqual([[5, 5], [5, 5], [5, 5]]);
  });
  it('AveragePool with pads (count_include_pad 0 and 1)', async () => {
    for (const cip of [0, 1]) {
      expect(await vjpError({ nodes: [node('AveragePool', ['X'], ['Y'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: cip })], x: [1, 2, 7, 7], y: [1, 2, 4, 4] })).toBeLessThan(TOL);
    }
  });
  it('AveragePool 3x3 stride 2 without pads (FastestDet)', async () => {
    expect(await vjpError({ nodes: [node('AveragePool', ['X'], ['Y'], { kernel_shape: [3, 3], strides: [2, 2] })], x: [1, 2, 9, 9], y: [1, 2, 4, 4] })).toBeLessThan(TOL);
  });
  it('GlobalAveragePool', async () => {
    expect(await vjpError({ nodes: [node('GlobalAveragePool', ['X'], ['Y'])], x: [1, 3, 5, 4], y: [1, 3, 1, 1] })).toBeLessThan(TOL);
  });
});

describe('Resize / Upsample', () => {
  it('nearest ×2 asymmetric floor (opset 11)', async () => {
    expect(await vjpError({ nodes: [node('Resize', ['X', 'roi', 'scales'], ['Y'], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' })], inits: [W('roi', [0]), W('scales', [4]).dims ? { ...W('scales', [4]), rawData: new Uint8Array(Float32Array.from([1, 1, 2, 2]).buffer) } : W('s', [1])], x: [1, 2, 4, 5], y: [1, 2, 8, 10], opset: 11 })).toBeLessThan(TOL);
  });
  it('linear half_pixel to sizes', async () => {
    expect(await vjpError({ nodes: [node('Resize', ['X', '', '', 'sizes'], ['Y'], { mode: 'linear' })], inits: [I64('sizes', [1, 2, 7, 9])], x: [1, 2, 4, 5], y: [1, 2, 7, 9] })).toBeLessThan(TOL);
  });
  it('Upsample (opset 9) nearest ×2', async () => {
    expect(await vjpError({ nodes: [node('Upsample', ['X', 'scales'], ['Y'], { mode: 'nearest' })], inits: [{ ...W('scales', [4]), rawData: new Uint8Array(Float32Array.from([1, 1, 2, 2]).buffer) }], x: [1, 2, 3, 4], y: [1, 2, 6, 8], opset: 9 })).toBeLessThan(TOL);
  });
});
