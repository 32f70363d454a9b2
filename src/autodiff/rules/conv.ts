// Conv / ConvTranspose gradients w.r.t. the data input (weights are constants).
import { attrInt, attrInts, floatTensor, tensorValues } from '../onnx-io.js';
import { convTransposeParams, windowParams } from '../shapes.js';
import type { Rule } from './types.js';

/** W[g·Cog+o, c, k…] → W'[g·Cig+c, o, flipped k…]: the kernel of the adjoint stride-1 Conv. */
function flipSwap(w: number[], dims: number[], group: number): Float32Array {
  const [cout, cig, ...k] = dims;
  const cog = cout / group;
  const ks = k.reduce((a, b) => a * b, 1);
  const out = new Float32Array(w.length);
  for (let gi = 0; gi < group; gi++)
    for (let o = 0; o < cog; o++)
      for (let c = 0; c < cig; c++) {
        const src = ((gi * cog + o) * cig + c) * ks;
        const dst = ((gi * cig + c) * cog + o) * ks;
        for (let i = 0; i < ks; i++) out[dst + ks - 1 - i] = w[src + i];
      }
  return out;
}

const conv: Rule = (ctx, n, [g]) => {
  const [x, w] = n.input ?? [];
  if (ctx.isActive(w)) return ctx.fail(n, 'Conv weights that depend on the input are not supported');
  const xs = ctx.shape(x), ws = ctx.shape(w);
  const nd = xs.length - 2;
  const kernel = attrInts(n, 'kernel_shape') ?? ws.slice(2);
  const p = windowParams(n, xs.slice(2), kernel);
  const group = attrInt(n, 'group', 1);
  const B = ctx.b;
  const reach = (i: number): number => p.dilations[i] * (kernel[i] - 1);
  const unit = p.strides.every((s) => s === 1);
  const adjPads = [
    ...kernel.map((_, i) => reach(i) - p.pads[i]),
    ...kernel.map((_, i) => xs[2 + i] - p.out[i] + reach(i) - (reach(i) - p.pads[i])),
  ];
  const wt = ctx.init(w);
  if (unit && wt && adjPads.every((v) => v >= 0)) {
    // Stride 1: a plain Conv with the flipped, channel-swapped kernel (faster than grouped ConvTranspose on CPU).
    const wf = flipSwap(tensorValues(wt), ws, group);
    const wName = B.addInit(floatTensor('', [ws[1] * group, ws[0] / group, ...ws.slice(2)], wf));
    return [B.op('Conv', [g!, wName], { group, dilations: p.dilations, pads: adjPads, kernel_shape: kernel, strides: Array(nd).fill(1) })];
  }
  if (wt && group > 1 && nd === 2 && p.dilations.every((d) => d === 1)) {
    // Grouped/depthwise stride s: onnxruntime's grouped ConvTranspose runs group by group (slow).
    // Spread dY onto the stride grid instead — nearest Resize ×s (NCHWc-capable) times a constant
    // 0/1 grid mask — and run the stride-1 adjoint Conv on it (NCHWc depthwise): 2–4× faster here.
    const L = p.out.map((o, i) => o * p.strides[i]);
    const begin = kernel.map((k, i) => k - 1 - p.pads[i]);
    const end = kernel.map((k, i) => xs[2 + i] - L[i] - begin[i] + k - 1);
    if ([...begin, ...end].every((v) => v >= 0)) {
      const mask = new Float32Array(L[0] * L[1]);
      for (let i = 0; i < L[0]; i += p.strides[0]) for (let j = 0; j < L[1]; j += p.strides[1]) mask[i * L[1] + j] = 1;
      const up = B.op('Resize', [g!, '', B.constF([1, 1, ...p.strides], [4])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
      const z = B.op('Mul', [up, B.addInit(floatTensor('', [1, 1, L[0], L[1]], mask))]);
      const wf = flipSwap(tensorValues(wt), ws, group);
      const wName = B.addInit(floatTensor('', [ws[1] * group, ws[0] / group, ...ws.slice(2)], wf));
      return [B.op('Conv', [z, wName], { group, pads: [...begin, ...end], kernel_shape: kernel, strides: [1, 1] })];
    }
  }
  // Otherwise ConvTranspose. Measured slower: zero-interleaving dY with Pad/Reshape + stride-1 Conv
  // (FastestDet 13 vs 22 ms) and a polyphase stride-1 grouped Conv + DepthToSpace (DepthToSpace
  // alone costs about what the ConvTranspose does).
  const outputPadding = kernel.map((_, i) => xs[2 + i] - ((p.out[i] - 1) * p.strides[i] + reach(i) + 1 - p.pads[i] - p.pads[i + nd]));
  return [B.op('ConvTranspose', [g!, w], {
    group, dilations: p.dilations, pads: p.pads, strides: p.strides, kernel_shape: kernel, output_padding: outputPadding,
  })];
};

const convTranspose: Rule = (ctx, n, [g]) => {
  const [x, w] = n.input ?? [];
  if (ctx.isActive(w)) return ctx.fail(n, 'ConvTranspose weights that depend on the input are not supported');
  const xs = ctx.shape(x), ws = ctx.shape(w);
  const kernel = attrInts(n, 'kernel_shape') ?? ws.slice(2);
  const p = convTransposeParams(n, xs.slice(2), kernel);
  const group = attrInt(n, 'group', 1);
  return [ctx.b.op('Conv', [g!, w], { group, dilations: p.dilations, pads: p.pads, strides: p.strides, kernel_shape: kernel })];
};

export const convRules: Record<string, Rule> = { Conv: conv, ConvTranspose: convTranspose };
