// Pooling gradients built from Conv/ConvTranspose with one-hot or constant kernels
// (MaxPool with an Indices output runs a much slower kernel, and scatter-add needs opset 16).
import { attrInt, attrInts, floatTensor, makeAttrs } from '../onnx-io.js';
import { windowParams } from '../shapes.js';
import type { Rule, RuleCtx } from './types.js';

const BIG_NEGATIVE = -1e30;

/** [C·K, 1, k…] kernel whose channel c·K+j picks window tap j. */
function oneHotKernel(channels: number, kernel: number[]): { dims: number[]; data: Float32Array } {
  const K = kernel.reduce((a, b) => a * b, 1);
  const data = new Float32Array(channels * K * K);
  for (let c = 0; c < channels; c++) for (let j = 0; j < K; j++) data[(c * K + j) * K + j] = 1;
  return { dims: [channels * K, 1, ...kernel], data };
}

interface PoolGeom { kernel: number[]; strides: number[]; dilations: number[]; pads: number[]; ceil: boolean }

/** Gradient of a 2-D MaxPool y = maxpool(x) through window taps (a one-hot depthwise Conv), equality with the max, ties split, ConvTranspose back. */
function maxPoolTaps(ctx: RuleCtx, x: string, y: string, g: string, xs: number[], geom: PoolGeom, nonNegative = false): string {
  const [N, C, H, W] = xs;
  const { kernel } = geom;
  const p = windowParams({ attribute: makeAttrs({ strides: geom.strides, dilations: geom.dilations, pads: geom.pads }) }, [H, W], kernel, geom.ceil);
  const K = kernel[0] * kernel[1];
  const [OH, OW] = p.out;
  const B = ctx.b;
  const need = (i: number): number => (p.out[i] - 1) * p.strides[i] + p.dilations[i] * (kernel[i] - 1) + 1;
  const extra = [0, 1].map((i) => Math.max(0, need(i) - ([H, W][i] + p.pads[i] + p.pads[i + 2])));
  const convPads = [p.pads[0], p.pads[1], p.pads[2] + extra[0], p.pads[3] + extra[1]];
  const oh = oneHotKernel(C, kernel);
  const kName = B.addInit(floatTensor('', oh.dims, oh.data));
  // Window taps [N, C, K, OH, OW]; the gradient goes to taps equal to the max, split among ties.
  let taps = B.op('Reshape', [B.op('Conv', [x, kName], { group: C, strides: p.strides, dilations: p.dilations, kernel_shape: kernel, pads: convPads }), B.constI64([N, C, K, OH, OW])]);
  if (convPads.some((v) => v !== 0) && !nonNegative) {
    // The Conv pads with zeros; taps that fall in the padding get −1e30 added so they never equal the
    // max (as MaxPool's −∞ padding). Cheaper than a −1e30 Pad of x, which onnxruntime runs slowly.
    const pen = new Float32Array(K * OH * OW);
    for (let a = 0; a < kernel[0]; a++) for (let b = 0; b < kernel[1]; b++) for (let i = 0; i < OH; i++) for (let j = 0; j < OW; j++) {
      const r = i * p.strides[0] - p.pads[0] + a * p.dilations[0], c = j * p.strides[1] - p.pads[1] + b * p.dilations[1];
      if (r < 0 || r >= H || c < 0 || c >= W) pen[((a * kernel[1] + b) * OH + i) * OW + j] = BIG_NEGATIVE;
    }
    taps = B.op('Add', [taps, B.addInit(floatTensor('', [1, 1, K, OH, OW], pen))]);
  }
  const axis2 = B.constI64([2]);
  const eq = B.op('Cast', [B.op('Equal', [taps, B.op('Unsqueeze', [y, axis2])])], { to: 1 });
  const cnt = B.op('ReduceSum', [eq, axis2], { keepdims: 1 });
  const share = B.op('Div', [B.op('Unsqueeze', [g, axis2]), cnt]);
  const t = B.op('Reshape', [B.op('Mul', [eq, share]), B.constI64([N, C * K, OH, OW])]);
  const pe = [p.pads[2] + extra[0], p.pads[3] + extra[1]];
  const outputPadding = [0, 1].map((i) => [H, W][i] - (need(i) - p.pads[i] - pe[i]));
  return B.op('ConvTranspose', [t, kName], {
    group: C, strides: p.strides, dilations: p.dilations, kernel_shape: kernel,
    pads: [p.pads[0], p.pads[1], pe[0], pe[1]], output_padding: outputPadding,
  });
}

const maxPool: Rule = (ctx, n, [g]) => {
  const x = (n.input ?? [])[0];
  const y = (n.output ?? [])[0];
  const xs = ctx.shape(x);
  if (xs.length !== 4) return ctx.fail(n, 'MaxPool gradient supports 2-D pooling only');
  if (attrInt(n, 'storage_order', 0) !== 0) return ctx.fail(n, 'MaxPool storage_order=1 is not supported');
  const kernel = attrInts(n, 'kernel_shape') ?? [];
  const ceil = attrInt(n, 'ceil_mode', 0) === 1;
  const p = windowParams(n, xs.slice(2), kernel, ceil);
  const geom: PoolGeom = { kernel, strides: p.strides, dilations: p.dilations, pads: p.pads, ceil };
  // Small windows (3×3) measured faster in one piece.
  // A ReLU output is ≥ 0, so a zero-padding tap can only equal a window's max when that max is 0, i.e.
  // when every real tap is 0 too; the gradient reaching those zeros dies in the ReLU's backward, so the
  // −1e30 padding penalty (a full-size Add) is not needed.
  const nonNegative = ctx.producer(x)?.opType === 'Relu';
  if (kernel[0] === 1 || kernel[1] === 1 || kernel[0] * kernel[1] <= 9) return [maxPoolTaps(ctx, x, y, g!, xs, geom, nonNegative)];
  // Separable: a k_h×k_w max is a k_h×1 max followed by a 1×k_w max (−∞ padding, per-axis output
  // counts), so the taps cost k_h + k_w per output instead of k_h·k_w (and K² in the one-hot Conv).
  // Measured slower: MaxPool's Indices output + ScatterElements add (its kernel is not NCHWc and
  // single-threaded: YOLOX 31 → 35 ms, FastestDet 12.4 → 12.8 ms).
  const B = ctx.b;
  const rows: PoolGeom = { kernel: [kernel[0], 1], strides: [p.strides[0], 1], dilations: [p.dilations[0], 1], pads: [p.pads[0], 0, p.pads[2], 0], ceil };
  const cols: PoolGeom = { kernel: [1, kernel[1]], strides: [1, p.strides[1]], dilations: [1, p.dilations[1]], pads: [0, p.pads[1], 0, p.pads[3]], ceil };
  const z = B.op('MaxPool', [x], { kernel_shape: rows.kernel, strides: rows.strides, dilations: rows.dilations, pads: rows.pads, ceil_mode: ceil ? 1 : 0 });
  const zs = [xs[0], xs[1], p.out[0], xs[3]];
  const gz = maxPoolTaps(ctx, z, y, g!, zs, cols, nonNegative);
  return [maxPoolTaps(ctx, x, z, gz, xs, rows, nonNegative)];
};

const averagePool: Rule = (ctx, n, [g]) => {
  const x = (n.input ?? [])[0];
  const xs = ctx.shape(x);
  if (xs.length !== 4) return ctx.fail(n, 'AveragePool gradient supports 2-D pooling only');
  const [, C, H, W] = xs;
  const kernel = attrInts(n, 'kernel_shape') ?? [];
  const p = windowParams(n, [H, W], kernel, attrInt(n, 'ceil_mode', 0) === 1);
  const includePad = attrInt(n, 'count_include_pad', 0) === 1;
  const [OH, OW] = p.out;
  // Per-window divisor: real pixels only unless count_include_pad (which still excludes ceil overhang).
  const count = (o: number, i: number): number => {
    const start = o * p.strides[i] - p.pads[i];
    const end = start + (kernel[i] - 1) * p.dilations[i];
    const lo = includePad ? -p.pads[i] : 0;
    const hi = includePad ? [H, W][i] - 1 + p.pads[i + 2] : [H, W][i] - 1;
    let c = 0;
    for (let v = start; v <= end; v += p.dilations[i]) if (v >= lo && v <= hi) c++;
    return c;
  };
  const inv = new Float32Array(OH * OW);
  for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) inv[oy * OW + ox] = 1 / (count(oy, 0) * count(ox, 1));
  const B = ctx.b;
  const uniform = inv.every((v) => v === inv[0]);
  const scaled = B.op('Mul', [g!, uniform ? B.constF([inv[0]], []) : B.addInit(floatTensor('', [1, 1, OH, OW], inv))]);
  const ones = B.addInit(floatTensor('', [C, 1, ...kernel], new Float32Array(C * kernel[0] * kernel[1]).fill(1)));
  const need = (i: number): number => (p.out[i] - 1) * p.strides[i] + p.dilations[i] * (kernel[i] - 1) + 1;
  const outputPadding = [0, 1].map((i) => [H, W][i] - (need(i) - p.pads[i] - p.pads[i + 2]));
  const pe = [p.pads[2], p.pads[3]];
  // With ceil_mode the last window may overhang the end padding; crop via extra end pads.
  for (const i of [0, 1]) if (outputPadding[i] < 0) { pe[i] -= outputPadding[i]; outputPadding[i] = 0; }
  return [B.op('ConvTranspose', [scaled, ones], {
    group: C, strides: p.strides, dilations: p.dilations, kernel_shape: kernel,
    pads: [p.pads[0], p.pads[1], pe[0], pe[1]], output_padding: outputPadding,
  })];
};

const globalAveragePool: Rule = (ctx, n, [g]) => {
  const xs = ctx.shape((n.input ?? [])[0]);
  const B = ctx.b;
  const area = xs.slice(2).reduce((a, b) => a * b, 1);
  return [B.op('Expand', [B.op('Mul', [g!, B.constF([1 / area], [])]), B.constI64(xs)])];
};

export const poolRules: Record<string, Rule> = { MaxPool: maxPool, AveragePool: averagePool, GlobalAveragePool: globalAveragePool };
