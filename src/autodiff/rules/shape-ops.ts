// Data-movement ops: the gradient moves back the same way.
import { type NodeProto, attrInt, attrInts, attrString, floatTensor, tensorValues } from '../onnx-io.js';
import { sliceRange } from '../shapes.js';
import type { Rule, RuleCtx } from './types.js';

const norm = (a: number, r: number): number => (a < 0 ? a + r : a);

const reshapeBack: Rule = (ctx, n, [g]) => [ctx.b.op('Reshape', [g!, ctx.b.constI64(ctx.shape((n.input ?? [])[0]))])];

const transpose: Rule = (ctx, n, [g]) => {
  const r = ctx.shape((n.input ?? [])[0]).length;
  const perm = attrInts(n, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  const inv = Array(r).fill(0);
  perm.forEach((p, i) => { inv[p] = i; });
  return [ctx.b.op('Transpose', [g!], { perm: inv })];
};

/**
 * When a channel Concat's gradient is an adjoint Conv (group 1, constant kernel) or a Sum of them,
 * each part is computed by its own Conv with the matching output-channel rows of the kernel: the
 * same work, no Split, so onnxruntime keeps the gradients in its NCHWc layout (Split forces reorders).
 */
function splitAdjointConv(ctx: RuleCtx, g: string, sizes: number[]): string[] | undefined {
  const B = ctx.b;
  const n = B.producer(g);
  if (!n) return undefined;
  if (n.opType === 'Sum') {
    const each = (n.input ?? []).map((i) => splitAdjointConv(ctx, i, sizes));
    if (each.some((e) => !e)) return undefined;
    return sizes.map((_, k) => B.op('Sum', each.map((e) => (e as string[])[k])));
  }
  const [x, w, bias] = n.input ?? [];
  const wt = n.opType === 'Conv' && !bias ? B.inits.get(w) : undefined;
  if (!wt || attrInt(n, 'group', 1) !== 1) return undefined;
  const dims = (wt.dims ?? []).map(Number);
  if (dims[0] !== sizes.reduce((a, b) => a + b, 0)) return undefined;
  const values = tensorValues(wt);
  const per = values.length / dims[0];
  let start = 0;
  return sizes.map((size) => {
    const part = B.addInit(floatTensor('', [size, ...dims.slice(1)], values.slice(start * per, (start + size) * per)));
    start += size;
    const out = B.op('Conv', [x, part]);
    (B.producer(out) as NodeProto).attribute = n.attribute;
    return out;
  });
}

const concat: Rule = (ctx, n, [g]) => {
  const inputs = n.input ?? [];
  const r = ctx.shape(inputs[0]).length;
  const axis = norm(attrInt(n, 'axis', 0), r);
  const sizes = inputs.map((i) => ctx.shape(i)[axis]);
  const parts = (axis === 1 && r === 4 ? splitAdjointConv(ctx, g!, sizes) : undefined)
    ?? ctx.b.ops('Split', [g!, ctx.b.constI64(sizes)], { axis }, inputs.length);
  return inputs.map((i, k) => (ctx.isActive(i) ? parts[k] : undefined));
};

function zeros(ctx: RuleCtx, shape: number[]): string {
  return ctx.b.op('Expand', [ctx.b.constF([0], []), ctx.b.constI64(shape)]);
}

const split: Rule = (ctx, n, gOut) => {
  const x = (n.input ?? [])[0];
  const axis = norm(attrInt(n, 'axis', 0), ctx.shape(x).length);
  const parts = (n.output ?? []).map((o, k) => gOut[k] ?? zeros(ctx, ctx.shape(o)));
  return [ctx.b.op('Concat', parts, { axis })];
};

/** Pads (positive) or crops (negative) along every axis. */
function padOrCrop(ctx: RuleCtx, g: string, shape: number[], before: number[], after: number[]): string {
  const B = ctx.b;
  const r = shape.length;
  let t = g;
  if (before.some((v) => v < 0) || after.some((v) => v < 0)) {
    const axes = [], starts = [], ends = [];
    for (let i = 0; i < r; i++) if (before[i] < 0 || after[i] < 0) {
      axes.push(i); starts.push(Math.max(0, -before[i])); ends.push(shape[i] - Math.max(0, -after[i]));
    }
    t = B.op('Slice', [t, B.constI64(starts), B.constI64(ends), B.constI64(axes)]);
  }
  const pads = [...before.map((v) => Math.max(0, v)), ...after.map((v) => Math.max(0, v))];
  return pads.some((v) => v > 0) ? B.op('Pad', [t, B.constI64(pads)]) : t;
}

const slice: Rule = (ctx, n, [g]) => {
  const [x, st, en, ax, sp] = n.input ?? [];
  const xs = ctx.shape(x);
  const starts = ctx.constOf(st), ends = ctx.constOf(en);
  if (!starts || !ends) return ctx.fail(n, 'Slice with non-constant starts/ends is not supported');
  const axes = (ax ? ctx.constOf(ax) : undefined) ?? starts.map((_, i) => i);
  const steps = (sp ? ctx.constOf(sp) : undefined) ?? starts.map(() => 1);
  const B = ctx.b;
  let t = g!;
  const cur = [...ctx.shape((n.output ?? [])[0])];
  const before = xs.map(() => 0), after = xs.map(() => 0);
  axes.forEach((a0, i) => {
    const a = norm(a0, xs.length);
    const r = sliceRange(xs[a], starts[i], ends[i], steps[i]);
    let first = r.start, step = r.step;
    if (step < 0) {
      t = B.op('Slice', [t, B.constI64([-1]), B.constI64([-Number.MAX_SAFE_INTEGER]), B.constI64([a]), B.constI64([-1])]);
      first = r.start + (r.count - 1) * r.step;
      step = -step;
    }
    let len = r.count;
    if (step > 1 && r.count > 0) {
      // Interleave zeros: [.., n, ..] → [.., n, step, ..] → [.., n·step, ..], then drop the trailing zeros.
      const u = B.op('Unsqueeze', [t, B.constI64([a + 1])]);
      const pads = Array((cur.length + 1) * 2).fill(0);
      pads[cur.length + 1 + a + 1] = step - 1;
      const padded = B.op('Pad', [u, B.constI64(pads)]);
      const merged = [...cur]; merged[a] = r.count * step;
      t = B.op('Reshape', [padded, B.constI64(merged)]);
      len = (r.count - 1) * step + 1;
      t = B.op('Slice', [t, B.constI64([0]), B.constI64([len]), B.constI64([a])]);
    }
    cur[a] = len;
    before[a] = first;
    after[a] = xs[a] - first - len;
  });
  return [padOrCrop(ctx, t, cur, before, after)];
};

const pad: Rule = (ctx, n, [g]) => {
  const [x, padsIn, , axesIn] = n.input ?? [];
  if (attrString(n, 'mode', 'constant') !== 'constant') return ctx.fail(n, 'Pad gradient supports mode=constant only');
  const xs = ctx.shape(x);
  const pads = ctx.constOf(padsIn);
  if (!pads) return ctx.fail(n, 'Pad with non-constant pads is not supported');
  const axes = (axesIn ? ctx.constOf(axesIn)?.map((a) => norm(a, xs.length)) : undefined) ?? xs.map((_, i) => i);
  const before = xs.map(() => 0), after = xs.map(() => 0);
  axes.forEach((a, i) => { before[a] = -pads[i]; after[a] = -pads[i + axes.length]; });
  return [padOrCrop(ctx, g!, ctx.shape((n.output ?? [])[0]), before, after)];
};

const gather: Rule = (ctx, n, [g]) => {
  const [x, idxName] = n.input ?? [];
  const xs = ctx.shape(x);
  const axis = norm(attrInt(n, 'axis', 0), xs.length);
  const idx = ctx.constOf(idxName)?.map((i) => norm(i, xs[axis]));
  const idxShape = ctx.shape(idxName);
  if (!idx || idxShape.length > 1) return ctx.fail(n, 'Gather gradient needs constant scalar or 1-D indices');
  const B = ctx.b;
  const D = xs[axis];
  const withAxis = idxShape.length === 0 ? B.op('Unsqueeze', [g!, B.constI64([axis])]) : g!;
  const contiguous = idx.every((v, i) => v === idx[0] + i);
  if (contiguous) {
    const before = xs.map(() => 0), after = xs.map(() => 0);
    before[axis] = idx[0]; after[axis] = D - idx[0] - idx.length;
    const cur = [...xs]; cur[axis] = idx.length;
    return [padOrCrop(ctx, withAxis, cur, before, after), undefined];
  }
  // Scatter-add as a MatMul with a one-hot [K, D] matrix along the moved-last axis.
  const r = xs.length;
  const perm = [...Array(r).keys()].filter((i) => i !== axis).concat([axis]);
  const inv = Array(r).fill(0);
  perm.forEach((p, i) => { inv[p] = i; });
  const oneHot = new Float32Array(idx.length * D);
  idx.forEach((v, k) => { oneHot[k * D + v] += 1; });
  const moved = B.op('Transpose', [withAxis], { perm });
  const scattered = B.op('MatMul', [moved, B.addInit(floatTensor('', [idx.length, D], oneHot))]);
  return [B.op('Transpose', [scattered], { perm: inv }), undefined];
};

const expand: Rule = (ctx, n, [g]) => {
  const x = (n.input ?? [])[0];
  return [ctx.reduceTo(g!, ctx.shape((n.output ?? [])[0]), ctx.shape(x)), undefined];
};

/** SpaceToDepth and DCR DepthToSpace are inverse permutations; CRD is undone with Reshape/Transpose. */
const spaceToDepth: Rule = (ctx, n, [g]) => [ctx.b.op('DepthToSpace', [g!], { blocksize: attrInt(n, 'blocksize', 1), mode: 'DCR' })];
const depthToSpace: Rule = (ctx, n, [g]) => {
  const bs = attrInt(n, 'blocksize', 1);
  if (attrString(n, 'mode', 'DCR') === 'DCR') return [ctx.b.op('SpaceToDepth', [g!], { blocksize: bs })];
  const [N, C, H, W] = ctx.shape((n.input ?? [])[0]);
  const B = ctx.b;
  const t = B.op('Transpose', [B.op('Reshape', [g!, B.constI64([N, C / (bs * bs), H, bs, W, bs])])], { perm: [0, 1, 3, 5, 2, 4] });
  return [B.op('Reshape', [t, B.constI64([N, C, H, W])])];
};

export const shapeRules: Record<string, Rule> = {
  Reshape: reshapeBack, Flatten: reshapeBack, Squeeze: reshapeBack, Unsqueeze: reshapeBack,
  Transpose: transpose, Concat: concat, Split: split, Slice: slice, Pad: pad, Gather: gather, Expand: expand,
  SpaceToDepth: spaceToDepth, DepthToSpace: depthToSpace,
};
