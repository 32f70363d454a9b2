// Element-wise ops with broadcasting, activations, Softmax, reductions.
import { attrFloat, attrInt, attrInts } from '../onnx-io.js';
import type { Rule, RuleCtx } from './types.js';

const ins = (n: { input?: string[] | null }): string[] => [...(n.input ?? [])];
const outs = (n: { output?: string[] | null }): string[] => [...(n.output ?? [])];

function binary(ctx: RuleCtx, node: { input?: string[] | null; output?: string[] | null }, gA: () => string, gB: () => string): (string | undefined)[] {
  const [a, b] = ins(node);
  const y = outs(node)[0];
  return [
    ctx.isActive(a) ? ctx.reduceTo(gA(), ctx.shape(y), ctx.shape(a)) : undefined,
    ctx.isActive(b) ? ctx.reduceTo(gB(), ctx.shape(y), ctx.shape(b)) : undefined,
  ];
}

const add: Rule = (ctx, n, [g]) => binary(ctx, n, () => g!, () => g!);
const sub: Rule = (ctx, n, [g]) => binary(ctx, n, () => g!, () => ctx.b.op('Neg', [g!]));
const div: Rule = (ctx, n, [g]) => {
  const [, bIn] = ins(n);
  const y = outs(n)[0];
  let gOverB: string | undefined;
  const ga = (): string => (gOverB ??= ctx.b.op('Div', [g!, bIn]));
  // d(a/b)/db = −y/b
  return binary(ctx, n, ga, () => ctx.b.op('Neg', [ctx.b.op('Mul', [ga(), y])]));
};

/**
 * a·t + b on a 4-D NCHW tensor as an inference BatchNormalization (mean 0, var 1, ε 0): onnxruntime
 * runs it inside its NCHWc blocked layout (as a depthwise 1×1 conv), while Sub/Div or a Mul/Add with
 * a constant force reorders. Undefined for other ranks.
 */
function affine(ctx: RuleCtx, t: string, a: number, b: number, s = ctx.shape(t)): string | undefined {
  if (s.length !== 4) return undefined;
  const C = s[1];
  const B = ctx.b;
  const c = (v: number): string => B.constF(new Float32Array(C).fill(v), [C]);
  return B.op('BatchNormalization', [t, c(a), c(b), c(0), c(1)], { epsilon: { float: 0 } });
}

/** x·σ(x) (SiLU/Swish): one compact backward g·(s + y − y·s) instead of two chained rules. */
function siluInput(ctx: RuleCtx, a: string, b: string): string | undefined {
  const p = ctx.producer(b);
  if (p?.opType === 'Sigmoid' && (p.input ?? [])[0] === a && ctx.uses(b) === 1) return a;
  return undefined;
}

const mul: Rule = (ctx, n, [g]) => {
  const [a, b] = ins(n);
  const y = outs(n)[0];
  for (const [x, s] of [[a, b], [b, a]]) {
    if (x !== s && siluInput(ctx, x, s) && ctx.isActive(x)) {
      const B = ctx.b;
      // d = s + y·(1 − s). On NCHW maps σ(−x) = 1 − s is recomputed as Sigmoid(BatchNormalization(x, −1)),
      // which onnxruntime fuses into one NCHWc op, and 1 − that as another BatchNormalization: the
      // forward keeps x·σ(x) to itself (fused to QuickGelu) and the chain stays in the blocked layout.
      const negX = affine(ctx, x, -1, 0);
      let d: string;
      if (negX) {
        const t = B.op('Sigmoid', [negX]);
        d = B.op('Add', [affine(ctx, t, -1, 1, ctx.shape(x)) as string, B.op('Mul', [y, t])]);
      } else d = B.op('Sub', [B.op('Add', [s, y]), B.op('Mul', [y, s])]);
      const gx = B.op('Mul', [g!, d]);
      return x === a ? [gx, undefined] : [undefined, gx];
    }
  }
  if (a === b) return [ctx.b.op('Mul', [g!, ctx.b.op('Add', [a, a])]), undefined];
  return binary(ctx, n, () => ctx.b.op('Mul', [g!, b]), () => ctx.b.op('Mul', [g!, a]));
};

const pow: Rule = (ctx, n, [g]) => {
  const [a, e] = ins(n);
  const y = outs(n)[0];
  const B = ctx.b;
  const ev = ctx.constOf(e);
  const ga = (): string => {
    if (ev && ev.length === 1) {
      const p = ev[0];
      if (p === 1) return g!;
      if (p === 2) return B.op('Mul', [g!, B.op('Mul', [a, B.constF([2], [])])]);
      return B.op('Mul', [g!, B.op('Mul', [B.op('Pow', [a, B.constF([p - 1], [])]), B.constF([p], [])])]);
    }
    // e·a^(e−1) = e·y/a
    return B.op('Mul', [g!, B.op('Div', [B.op('Mul', [e, y]), a])]);
  };
  return binary(ctx, n, ga, () => B.op('Mul', [g!, B.op('Mul', [y, B.op('Log', [a])])]));
};

const sigmoid: Rule = (ctx, n, [g]) => {
  const y = outs(n)[0];
  const B = ctx.b;
  const oneMinusY = affine(ctx, y, -1, 1);
  return [B.op('Mul', [g!, oneMinusY ? B.op('Mul', [y, oneMinusY]) : B.op('Sub', [y, B.op('Mul', [y, y])])])];
};
/** 2^100: scales any positive normal float32 ReLU output past tanh's rounding to 1 (tanh(x) = 1 in float32 for x ≥ 9.1). */
const STEP_GAIN = 2 ** 100;
const relu: Rule = (ctx, n, [g]) => {
  const B = ctx.b;
  const y = outs(n)[0];
  // On NCHW maps the mask [y > 0] is tanh(2^100·y) (a BatchNormalization + Tanh that onnxruntime fuses
  // into one NCHWc op; exact for y ≥ 2^-96) so the backward stays in the blocked layout; Greater/Where
  // would force reorders around every ReLU.
  const scaled = affine(ctx, y, STEP_GAIN, 0);
  if (scaled) return [B.op('Mul', [g!, B.op('Tanh', [scaled])])];
  return [B.op('Where', [B.op('Greater', [y, B.constF([0], [])]), g!, B.constF([0], [])])];
};
const leakyRelu: Rule = (ctx, n, [g]) => {
  const B = ctx.b;
  const alpha = attrFloat(n, 'alpha', 0.01);
  return [B.op('Where', [B.op('Greater', [ins(n)[0], B.constF([0], [])]), g!, B.op('Mul', [g!, B.constF([alpha], [])])])];
};
/** Clip passes the gradient where the input was not clipped. */
const clip: Rule = (ctx, n, [g]) => {
  const B = ctx.b;
  return [B.op('Where', [B.op('Equal', [ins(n)[0], outs(n)[0]]), g!, B.constF([0], [])])];
};
const hardSigmoid: Rule = (ctx, n, [g]) => {
  const B = ctx.b;
  const alpha = attrFloat(n, 'alpha', 0.2);
  const y = outs(n)[0];
  const inside = B.op('And', [B.op('Greater', [y, B.constF([0], [])]), B.op('Less', [y, B.constF([1], [])])]);
  return [B.op('Where', [inside, B.op('Mul', [g!, B.constF([alpha], [])]), B.constF([0], [])])];
};
const hardSwish: Rule = (ctx, n, [g]) => {
  // y = x·hs(x), hs = clip(x/6 + 1/2, 0, 1): dy/dx = hs + x/6 inside (−3, 3)
  const B = ctx.b;
  const x = ins(n)[0];
  const hs = B.op('HardSigmoid', [x], { alpha: { float: 1 / 6 }, beta: { float: 0.5 } });
  const inside = B.op('Less', [B.op('Abs', [x]), B.constF([3], [])]);
  const extra = B.op('Where', [inside, B.op('Mul', [x, B.constF([1 / 6], [])]), B.constF([0], [])]);
  return [B.op('Mul', [g!, B.op('Add', [hs, extra])])];
};
const exp: Rule = (ctx, n, [g]) => [ctx.b.op('Mul', [g!, outs(n)[0]])];
const tanh: Rule = (ctx, n, [g]) => {
  const B = ctx.b;
  const y = outs(n)[0];
  return [B.op('Mul', [g!, B.op('Sub', [B.constF([1], []), B.op('Mul', [y, y])])])];
};
const log: Rule = (ctx, n, [g]) => [ctx.b.op('Div', [g!, ins(n)[0]])];
const neg: Rule = (ctx, _n, [g]) => [ctx.b.op('Neg', [g!])];
const sqrt: Rule = (ctx, n, [g]) => [ctx.b.op('Div', [g!, ctx.b.op('Mul', [outs(n)[0], ctx.b.constF([2], [])])])];
const identity: Rule = (_ctx, _n, [g]) => [g];

const softmax: Rule = (ctx, n, [g]) => {
  const B = ctx.b;
  const y = outs(n)[0];
  const axis = attrInt(n, 'axis', -1);
  const dot = B.op('ReduceSum', [B.op('Mul', [g!, y]), B.constI64([axis])], { keepdims: 1 });
  return [B.op('Mul', [y, B.op('Sub', [g!, dot])])];
};
const logSoftmax: Rule = (ctx, n, [g]) => {
  const B = ctx.b;
  const axis = attrInt(n, 'axis', -1);
  const s = B.op('ReduceSum', [g!, B.constI64([axis])], { keepdims: 1 });
  return [B.op('Sub', [g!, B.op('Mul', [B.op('Exp', [outs(n)[0]]), s])])];
};

/** Inference-form BatchNormalization: a per-channel scale. */
const batchNorm: Rule = (ctx, n, [g]) => {
  const [x, sc, , , vr] = ins(n);
  const scale = ctx.constOf(sc), variance = ctx.constOf(vr);
  if (!scale || !variance) return ctx.fail(n, 'BatchNormalization needs constant scale and variance');
  const eps = attrFloat(n, 'epsilon', 1e-5);
  const rank = ctx.shape(x).length;
  const a = scale.map((s, i) => s / Math.sqrt(variance[i] + eps));
  return [ctx.b.op('Mul', [g!, ctx.b.constF(a, [a.length, ...Array(rank - 2).fill(1)])])];
};

const sum: Rule = (ctx, n, [g]) => ins(n).map((a) => (ctx.isActive(a) ? ctx.reduceTo(g!, ctx.shape(outs(n)[0]), ctx.shape(a)) : undefined));

const where: Rule = (ctx, n, [g]) => {
  const [c, a, b] = ins(n);
  const B = ctx.b;
  const y = ctx.shape(outs(n)[0]);
  const zero = B.constF([0], []);
  return [
    undefined,
    ctx.isActive(a) ? ctx.reduceTo(B.op('Where', [c, g!, zero]), y, ctx.shape(a)) : undefined,
    ctx.isActive(b) ? ctx.reduceTo(B.op('Where', [c, zero, g!]), y, ctx.shape(b)) : undefined,
  ];
};

function reduceAxes(ctx: RuleCtx, n: { input?: string[] | null; opType?: string | null }, rank: number): number[] {
  const fromInput = (n.input ?? [])[1] ? ctx.constOf((n.input ?? [])[1]) : undefined;
  const axes = n.opType === 'ReduceSum' || ctx.opset >= 18 ? fromInput : attrInts(n as never, 'axes') ?? fromInput;
  if (!axes || axes.length === 0) return Array.from({ length: rank }, (_, i) => i);
  return axes.map((a) => (a < 0 ? a + rank : a));
}

const reduceSumMean: Rule = (ctx, n, [g]) => {
  const B = ctx.b;
  const x = ins(n)[0];
  const xs = ctx.shape(x);
  const axes = reduceAxes(ctx, n, xs.length);
  const kept = xs.map((d, i) => (axes.includes(i) ? 1 : d));
  let gk = B.op('Reshape', [g!, B.constI64(kept)]);
  if (n.opType === 'ReduceMean') gk = B.op('Mul', [gk, B.constF([1 / axes.reduce((p, a) => p * xs[a], 1)], [])]);
  return [B.op('Expand', [gk, B.constI64(xs)])];
};

export const elementwiseRules: Record<string, Rule> = {
  Add: add, Sub: sub, Mul: mul, Div: div, Pow: pow, Sum: sum, Where: where,
  Sigmoid: sigmoid, Relu: relu, LeakyRelu: leakyRelu, Clip: clip, HardSigmoid: hardSigmoid, HardSwish: hardSwish,
  Exp: exp, Tanh: tanh, Log: log, Neg: neg, Sqrt: sqrt, Identity: identity, Cast: identity,
  Softmax: softmax, LogSoftmax: logSoftmax, BatchNormalization: batchNorm,
  ReduceSum: reduceSumMean, ReduceMean: reduceSumMean,
};
