import { describe, expect, it } from 'vitest';
import { I64, W, node, vjpError } from './helpers.js';
import Long from 'long';
import { floatTensor } from '../../src/autodiff/onnx-io.js';

const TOL = 1e-2;

describe('data movement', () => {
  it('Concat (with a constant part) and Split', async () => {
    expect(await vjpError({ nodes: [node('Concat', ['X', 'C', 'X'], ['Y'], { axis: 1 })], inits: [W('C', [1, 2, 3])], x: [1, 3, 3], y: [1, 8, 3] })).toBeLessThan(TOL);
    expect(await vjpError({
      nodes: [node('Split', ['X', 'sp'], ['a', 'b', 'c'], { axis: 1 }), node('Mul', ['a', 'c'], ['Y'])],
      inits: [I64('sp', [2, 1, 2])], x: [2, 5], y: [2, 2],
    })).toBeLessThan(TOL);
    expect(await vjpError({ nodes: [node('Split', ['X'], ['a', 'b'], { axis: 1, split: [3, 1] }), node('Add', ['a', 'b'], ['Y'])], x: [2, 4], y: [2, 3], opset: 11 })).toBeLessThan(TOL);
  });
  it('channel Concat feeding Convs: per-part adjoint Convs instead of Split', async () => {
    expect(await vjpError({
      nodes: [
        node('Sigmoid', ['X'], ['a']), node('Concat', ['X', 'a'], ['c'], { axis: 1 }),
        node('Conv', ['c', 'w1'], ['p']), node('Conv', ['c', 'w2'], ['q'], { pads: [1, 1, 1, 1] }), node('Add', ['p', 'q'], ['Y']),
      ],
      inits: [W('w1', [3, 4, 1, 1]), W('w2', [3, 4, 3, 3])], x: [1, 2, 5, 5], y: [1, 3, 5, 5],
    })).toBeLessThan(TOL);
  });
  it('Focus (four step-2 slices concatenated) becomes SpaceToDepth, with and without a Conv after it', async () => {
    const slices = [[0, 0], [1, 0], [0, 1], [1, 1]].flatMap(([h, w], k) => [
      node('Slice', ['X', `s${h}`, 'big', 'ax2', 'two'], [`r${k}`]), node('Slice', [`r${k}`, `s${w}`, 'big', 'ax3', 'two'], [`f${k}`]),
    ]);
    const inits = [I64('s0', [0]), I64('s1', [1]), I64('big', [1e9]), I64('ax2', [2]), I64('ax3', [3]), I64('two', [2])];
    const cat = node('Concat', ['f0', 'f1', 'f2', 'f3'], ['F'], { axis: 1 });
    expect(await vjpError({ nodes: [...slices, cat, node('Conv', ['F', 'w'], ['Y'], { pads: [1, 1, 1, 1] })], inits: [...inits, W('w', [5, 8, 3, 3])], x: [1, 2, 6, 8], y: [1, 5, 3, 4] })).toBeLessThan(TOL);
    expect(await vjpError({ nodes: [...slices, cat, node('Mul', ['F', 'F'], ['Y'])], inits, x: [1, 2, 6, 8], y: [1, 8, 3, 4] })).toBeLessThan(TOL);
  });
  it('Slice with steps 2, −1, −2 and clamped ends', async () => {
    const cases: [number[], number[], number[], number[], number[]][] = [
      [[0, 1], [99, 7], [2, 3], [2, 2], [1, 3, 4, 3]],
      [[-1], [-99], [3], [-1], [1, 3, 8, 8]],
      [[6, 4], [0, -100], [3, 2], [-2, -1], [1, 3, 5, 3]],
    ];
    for (const [st, en, ax, sp, y] of cases) {
      expect(await vjpError({ nodes: [node('Slice', ['X', 's', 'e', 'a', 'p'], ['Y'])], inits: [I64('s', st), I64('e', en), I64('a', ax), I64('p', sp)], x: [1, 3, 8, 8], y })).toBeLessThan(TOL);
    }
  });
  it('Slice opset 9 with INT64_MAX end kept exact', async () => {
    expect(await vjpError({ nodes: [node('Slice', ['X'], ['Y'], { starts: [2], ends: [Long.MAX_VALUE as unknown as number], axes: [2] })], x: [1, 2, 5], y: [1, 2, 3], opset: 9 })).toBeLessThan(TOL);
  });
  it('Gather: scalar index, 1-D indices with duplicates', async () => {
    expect(await vjpError({ nodes: [node('Gather', ['X', 'i'], ['Y'], { axis: 0 })], inits: [I64('i', [1], [])], x: [2, 3, 4], y: [3, 4] })).toBeLessThan(TOL);
    expect(await vjpError({ nodes: [node('Gather', ['X', 'i'], ['Y'], { axis: 1 })], inits: [I64('i', [2, 0, 2, -1])], x: [2, 4, 3], y: [2, 4, 3] })).toBeLessThan(TOL);
  });
  it('Pad (positive and negative pads)', async () => {
    expect(await vjpError({ nodes: [node('Pad', ['X', 'p', 'v'], ['Y'])], inits: [I64('p', [0, 0, 1, 0, 0, 0, 2, -1]), floatTensor('v', [], [0.5])], x: [1, 2, 3, 4], y: [1, 2, 6, 3] })).toBeLessThan(TOL);
  });
  it('Reshape, Flatten, Transpose, Squeeze, Unsqueeze (opset 11 attributes and opset 13 inputs)', async () => {
    expect(await vjpError({
      nodes: [node('Reshape', ['X', 'sh'], ['a']), node('Transpose', ['a'], ['b'], { perm: [2, 0, 1] }), node('Unsqueeze', ['b'], ['c'], { axes: [0] }),
        node('Squeeze', ['c'], ['d'], { axes: [0] }), node('Flatten', ['d'], ['Y'], { axis: 1 })],
      inits: [I64('sh', [0, -1, 3])], x: [2, 3, 2], y: [3, 4], opset: 11,
    })).toBeLessThan(TOL);
    expect(await vjpError({
      nodes: [node('Unsqueeze', ['X', 'ax'], ['c']), node('Squeeze', ['c', 'ax'], ['Y'])],
      inits: [I64('ax', [1])], x: [2, 3], y: [2, 3],
    })).toBeLessThan(TOL);
  });
  it('integer shape sub-graph is left alone (Shape → Gather → Concat → Reshape)', async () => {
    expect(await vjpError({
      nodes: [node('Shape', ['X'], ['s']), node('Gather', ['s', 'i0'], ['n'], { axis: 0 }), node('Unsqueeze', ['n', 'z'], ['nu']),
        node('Concat', ['nu', 'm1'], ['t'], { axis: 0 }), node('Reshape', ['X', 't'], ['r']), node('Relu', ['r'], ['Y'])],
      inits: [I64('i0', [0], []), I64('z', [0]), I64('m1', [-1])], x: [2, 3, 4], y: [2, 12],
    })).toBeLessThan(TOL);
  });
  it('an unsupported op names the op, the node and the path', async () => {
    const { buildVjpModel } = await import('../../src/autodiff/vjp.js');
    const { modelBytes } = await import('./helpers.js');
    const bytes = modelBytes({ nodes: [node('Relu', ['X'], ['r']), node('Erf', ['r'], ['Y'])], x: [2, 2], y: [2, 2] });
    expect(() => buildVjpModel(bytes)).toThrow(/Erf.*Erf_Y.*X → Relu\(Relu_r\) → Erf\(Erf_Y\)/);
  });
});
