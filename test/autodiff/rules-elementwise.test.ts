import { describe, expect, it } from 'vitest';
import { I64, W, node, randn, vjpError } from './helpers.js';
import { floatTensor } from '../../src/autodiff/onnx-io.js';

const TOL = 1e-2;
// Keep inputs away from the kinks of piecewise-linear ops so ±ε never crosses one.
const awayFromKinks = (n: number): Float32Array => randn(n, 2).map((v) => (Math.abs(v) < 0.05 ? v + 0.2 : v));
const positive = (n: number): Float32Array => randn(n).map((v) => Math.abs(v) + 0.5);

describe('binary ops with broadcasting', () => {
  for (const op of ['Add', 'Sub', 'Mul', 'Div']) {
    it(`${op}: X [2,3,4,5] ⊙ C [3,1,1] and C ⊙ X`, async () => {
      expect(await vjpError({ nodes: [node(op, ['X', 'C'], ['Y'])], inits: [floatTensor('C', [3, 1, 1], positive(3))], x: [2, 3, 4, 5], y: [2, 3, 4, 5], xValues: positive(120) })).toBeLessThan(TOL);
      expect(await vjpError({ nodes: [node(op, ['C', 'X'], ['Y'])], inits: [floatTensor('C', [3, 1, 1], positive(3))], x: [2, 3, 4, 5], y: [2, 3, 4, 5], xValues: positive(120) })).toBeLessThan(TOL);
    });
    it(`${op}: both operands active, broadcast inside the graph`, async () => {
      const nodes = [
        node('ReduceSum', ['X', 'ax'], ['R'], { keepdims: 1 }),
        node('Exp', ['R'], ['E']),
        node(op, ['X', 'E'], ['Y']),
      ];
      expect(await vjpError({ nodes, inits: [I64('ax', [2])], x: [1, 3, 4], y: [1, 3, 4], xValues: positive(12).map((v) => v * 0.3) })).toBeLessThan(TOL);
    });
  }
  it('Pow with constant exponent', async () => {
    expect(await vjpError({ nodes: [node('Pow', ['X', 'p'], ['Y'])], inits: [floatTensor('p', [], [0.6])], x: [2, 5], y: [2, 5], xValues: positive(10) })).toBeLessThan(TOL);
  });
  it('Mul of a tensor with itself', async () => {
    expect(await vjpError({ nodes: [node('Mul', ['X', 'X'], ['Y'])], x: [3, 4], y: [3, 4] })).toBeLessThan(TOL);
  });
});

describe('activations', () => {
  const unary: [string, Record<string, number | { float: number }>][] = [
    ['Sigmoid', {}], ['Relu', {}], ['LeakyRelu', { alpha: { float: 0.1 } }], ['HardSigmoid', { alpha: { float: 0.3 }, beta: { float: 0.4 } }],
    ['HardSwish', {}], ['Exp', {}], ['Tanh', {}], ['Softmax', { axis: 1 }], ['Softmax', { axis: -1 }], ['Identity', {}],
  ];
  for (const [op, attrs] of unary) {
    it(`${op} ${JSON.stringify(attrs)}`, async () => {
      const opset = op === 'HardSwish' ? 14 : 13;
      expect(await vjpError({ nodes: [node(op, ['X'], ['Y'], attrs)], x: [2, 3, 5], y: [2, 3, 5], opset, xValues: awayFromKinks(30) })).toBeLessThan(TOL);
    });
  }
  it('Clip (opset 11 inputs) and Clip (opset 6 attributes)', async () => {
    expect(await vjpError({ nodes: [node('Clip', ['X', 'lo', 'hi'], ['Y'])], inits: [floatTensor('lo', [], [-0.5]), floatTensor('hi', [], [0.7])], x: [4, 6], y: [4, 6] })).toBeLessThan(TOL);
    expect(await vjpError({ nodes: [node('Clip', ['X'], ['Y'], { min: { float: -0.5 }, max: { float: 0.7 } })], x: [4, 6], y: [4, 6], opset: 6 })).toBeLessThan(TOL);
  });
  it('Softmax opset 11 on a non-last axis flattens to 2-D', async () => {
    expect(await vjpError({ nodes: [node('Softmax', ['X'], ['Y'], { axis: 1 })], x: [2, 3, 4], y: [2, 3, 4], opset: 11 })).toBeLessThan(TOL);
  });
  it('Sigmoid and Relu on NCHW maps (BatchNormalization-affine / tanh-step backward)', async () => {
    expect(await vjpError({ nodes: [node('Sigmoid', ['X'], ['Y'])], x: [1, 3, 4, 5], y: [1, 3, 4, 5] })).toBeLessThan(TOL);
    expect(await vjpError({ nodes: [node('Relu', ['X'], ['Y'])], x: [1, 3, 4, 5], y: [1, 3, 4, 5], xValues: awayFromKinks(60) })).toBeLessThan(TOL);
  });
  it('SiLU x·σ(x) uses the fused backward', async () => {
    expect(await vjpError({ nodes: [node('Sigmoid', ['X'], ['S']), node('Mul', ['S', 'X'], ['Y'])], x: [2, 6], y: [2, 6] })).toBeLessThan(TOL);
    expect(await vjpError({ nodes: [node('Sigmoid', ['X'], ['S']), node('Mul', ['X', 'S'], ['Y'])], x: [1, 4, 3, 3], y: [1, 4, 3, 3] })).toBeLessThan(TOL);
  });
  it('BatchNormalization (inference, not after a Conv) and folded after a Conv', async () => {
    const bn = [W('s', [3]), W('b', [3]), W('m', [3]), floatTensor('v', [3], [0.5, 1, 2])];
    expect(await vjpError({ nodes: [node('BatchNormalization', ['X', 's', 'b', 'm', 'v'], ['Y'], { epsilon: { float: 1e-3 } })], inits: bn, x: [1, 3, 4, 4], y: [1, 3, 4, 4] })).toBeLessThan(TOL);
    expect(await vjpError({
      nodes: [node('Conv', ['X', 'w'], ['C'], { pads: [1, 1, 1, 1] }), node('BatchNormalization', ['C', 's', 'b', 'm', 'v'], ['Y'], { epsilon: { float: 1e-3 }, spatial: 1 })],
      inits: [W('w', [3, 2, 3, 3]), ...bn], x: [1, 2, 5, 5], y: [1, 3, 5, 5], opset: 7,
    })).toBeLessThan(TOL);
  });
});

describe('linear', () => {
  for (const [tA, tB] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
    it(`Gemm transA=${tA} transB=${tB} with bias`, async () => {
      const x = tA ? [5, 3] : [3, 5];
      expect(await vjpError({ nodes: [node('Gemm', ['X', 'B', 'C'], ['Y'], { transA: tA, transB: tB, alpha: { float: 0.7 }, beta: { float: 1.3 } })], inits: [W('B', tB ? [4, 5] : [5, 4]), W('C', [4])], x, y: [3, 4] })).toBeLessThan(TOL);
    });
  }
  it('MatMul with batch broadcasting, both sides', async () => {
    expect(await vjpError({ nodes: [node('MatMul', ['X', 'B'], ['Y'])], inits: [W('B', [5, 4])], x: [2, 3, 5], y: [2, 3, 4] })).toBeLessThan(TOL);
    expect(await vjpError({ nodes: [node('MatMul', ['B', 'X'], ['Y'])], inits: [W('B', [2, 1, 3, 5])], x: [3, 5, 4], y: [2, 3, 3, 4] })).toBeLessThan(TOL);
  });
});
