// Gemm and MatMul gradients.
import { attrFloat, attrInt } from '../onnx-io.js';
import type { Rule, RuleCtx } from './types.js';

const gemm: Rule = (ctx, n, [g]) => {
  const [a, b, c] = n.input ?? [];
  const alpha = attrFloat(n, 'alpha', 1), beta = attrFloat(n, 'beta', 1);
  const tA = attrInt(n, 'transA', 0), tB = attrInt(n, 'transB', 0);
  const B = ctx.b;
  const ga = !ctx.isActive(a) ? undefined : tA === 0
    ? B.op('Gemm', [g!, b], { alpha: { float: alpha }, transB: 1 - tB })
    : B.op('Gemm', [b, g!], { alpha: { float: alpha }, transA: tB, transB: 1 });
  const gb = !ctx.isActive(b) ? undefined : tB === 0
    ? B.op('Gemm', [a, g!], { alpha: { float: alpha }, transA: 1 - tA })
    : B.op('Gemm', [g!, a], { alpha: { float: alpha }, transA: 1, transB: tA });
  const gc = c && ctx.isActive(c)
    ? ctx.reduceTo(beta === 1 ? g! : B.op('Mul', [g!, B.constF([beta], [])]), ctx.shape((n.output ?? [])[0]), ctx.shape(c))
    : undefined;
  return [ga, gb, gc];
};

function swapLast(ctx: RuleCtx, t: string): string {
  const r = ctx.shape(t).length;
  const perm = Array.from({ length: r }, (_, i) => i);
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return ctx.b.op('Transpose', [t], { perm });
}

const matmul: Rule = (ctx, n, [g]) => {
  const [a, b] = n.input ?? [];
  const as = ctx.shape(a), bs = ctx.shape(b);
  if (as.length < 2 || bs.length < 2) return ctx.fail(n, 'MatMul with 1-D operands is not supported');
  const gs = ctx.shape((n.output ?? [])[0]);
  const B = ctx.b;
  const ga = ctx.isActive(a) ? ctx.reduceTo(B.op('MatMul', [g!, swapLast(ctx, b)]), [...gs.slice(0, -1), as[as.length - 1]], as) : undefined;
  const gb = ctx.isActive(b) ? ctx.reduceTo(B.op('MatMul', [swapLast(ctx, a), g!]), [...gs.slice(0, -2), bs[bs.length - 2], gs[gs.length - 1]], bs) : undefined;
  return [ga, gb];
};

export const linearRules: Record<string, Rule> = { Gemm: gemm, MatMul: matmul };
