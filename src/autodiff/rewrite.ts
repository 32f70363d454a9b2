// Forward rewrites that keep the model's function but give the backward a cheaper form.
import type { Graph } from './graph.js';
import { type NodeProto, type TensorProto, attrInt, floatTensor, int64Tensor, makeAttrs, tensorValues } from './onnx-io.js';

interface Phase { src: string; starts: [number, number]; nodes: NodeProto[] }

const BIG = 2 ** 52;

/**
 * Follows Slice nodes (constant starts/ends/axes/steps) from `t` back to a tensor sliced with
 * step 2 along both spatial axes (2 and 3 of a 4-D NCHW tensor), start 0 or 1, to the end.
 */
function phaseOf(g: Graph, producer: Map<string, NodeProto>, t: string, shapeOf: (t: string) => number[] | undefined): Phase | undefined {
  const starts: (number | undefined)[] = [undefined, undefined];
  const nodes: NodeProto[] = [];
  let cur = t;
  for (;;) {
    const n = producer.get(cur);
    if (!n || n.opType !== 'Slice') break;
    const [x, st, en, ax, sp] = n.input ?? [];
    const vals = [st, en, ax, sp].map((k) => (k && g.inits.has(k) ? tensorValues(g.inits.get(k)!) : undefined));
    if (!vals[0] || !vals[1] || !vals[2] || !vals[3]) return undefined;
    const [s, e, a, p] = vals as number[][];
    for (let i = 0; i < a.length; i++) {
      const axis = a[i] < 0 ? a[i] + 4 : a[i];
      if (axis !== 2 && axis !== 3) return undefined;
      if (p[i] !== 2 || (s[i] !== 0 && s[i] !== 1) || e[i] < (shapeOf(x)?.[axis] ?? BIG) || starts[axis - 2] !== undefined) return undefined;
      starts[axis - 2] = s[i];
    }
    nodes.push(n);
    cur = x;
  }
  const xs = shapeOf(cur);
  if (starts[0] === undefined || starts[1] === undefined || !xs || xs.length !== 4 || xs[2] % 2 || xs[3] % 2) return undefined;
  return { src: cur, starts: [starts[0], starts[1]], nodes };
}

/**
 * YOLOX's Focus: Concat(x[..,0::2,0::2], x[..,1::2,0::2], x[..,0::2,1::2], x[..,1::2,1::2]) is a
 * channel permutation of SpaceToDepth(x, 2). Its backward then is one DepthToSpace instead of
 * interleaving four gradients at full resolution (folding it into the Conv as a 2k×2k stride-2 kernel
 * was measured slower: that ConvTranspose costs 4 ms on YOLOX). The permutation is folded into the consuming
 * Conv's weights when that is the only use; otherwise it stays as a Gather.
 * `shapeOf` gives static input shapes (to require even H and W).
 */
export function rewriteFocus(g: Graph, shapeOf: (t: string) => number[] | undefined): boolean {
  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const n of g.nodes) {
    for (const o of n.output ?? []) producer.set(o, n);
    for (const i of n.input ?? []) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  const isOutput = new Set(g.outputs.map((o) => o.name ?? ''));
  const drop = new Set<NodeProto>();
  const replace = new Map<NodeProto, NodeProto[]>();
  let k = 0;
  for (const cat of g.nodes) {
    const inputs = cat.input ?? [];
    if (cat.opType !== 'Concat' || inputs.length !== 4 || (attrInt(cat, 'axis', 0) !== 1 && attrInt(cat, 'axis', 0) !== -3)) continue;
    const phases = inputs.map((t) => phaseOf(g, producer, t, shapeOf));
    if (phases.some((p) => !p)) continue;
    const ph = phases as Phase[];
    const src = ph[0].src;
    const order = ph.map((p) => p.starts[0] * 2 + p.starts[1]);
    if (ph.some((p) => p.src !== src) || new Set(order).size !== 4) continue;
    // The slices must feed only this Concat (or each other).
    const inner = new Set(ph.flatMap((p) => p.nodes));
    const private_ = [...inner].every((n) => (n.output ?? []).every((o) => !isOutput.has(o) && (consumers.get(o) ?? []).every((c) => c === cat || inner.has(c))));
    if (!private_) continue;
    const C = (shapeOf(src) as number[])[1];
    // Concat channel j·C + c comes from SpaceToDepth channel order[j]·C + c.
    const perm = order.flatMap((b) => Array.from({ length: C }, (_, c) => b * C + c));
    const out = (cat.output ?? [])[0];
    const s2d = `${out}/space_to_depth`;
    const nodes: NodeProto[] = [{ opType: 'SpaceToDepth', input: [src], output: [s2d], name: `${s2d}_node`, attribute: makeAttrs({ blocksize: 2 }) }];
    const users = consumers.get(out) ?? [];
    const conv = users.length === 1 && !isOutput.has(out) ? users[0] : undefined;
    const w = conv?.opType === 'Conv' && (conv.input ?? [])[0] === out && attrInt(conv, 'group', 1) === 1 ? g.inits.get((conv.input ?? [])[1]) : undefined;
    if (conv && w) {
      const dims = (w.dims ?? []).map(Number);
      const wv = tensorValues(w);
      const [co, ci] = dims;
      const ks = wv.length / (co * ci);
      const nw = new Float32Array(wv.length);
      for (let o = 0; o < co; o++) for (let i = 0; i < ci; i++) for (let q = 0; q < ks; q++) nw[(o * ci + perm[i]) * ks + q] = wv[(o * ci + i) * ks + q];
      const wName = `${out}/focus_w${k++}`;
      g.inits.set(wName, floatTensor(wName, dims, nw));
      conv.input = [s2d, wName, ...(conv.input ?? []).slice(2)];
    } else {
      const idx = `${out}/focus_perm${k++}`;
      g.inits.set(idx, int64Tensor(idx, [perm.length], perm));
      nodes.push({ opType: 'Gather', input: [s2d, idx], output: [out], name: `${out}/focus_gather`, attribute: makeAttrs({ axis: 1 }) });
    }
    replace.set(cat, nodes);
    for (const n of inner) drop.add(n);
  }
  if (replace.size === 0) return false;
  g.nodes = g.nodes.flatMap((n) => (drop.has(n) ? [] : replace.get(n) ?? [n]));
  return true;
}

/** Square stride-1 "same" MaxPool (odd kernel k, pads k/2, no dilation): its kernel, else undefined. */
function samePoolKernel(n: NodeProto): number | undefined {
  if (n.opType !== 'MaxPool' || (n.output ?? []).length !== 1) return undefined;
  const a = (name: string): number[] | undefined => {
    const at = (n.attribute ?? []).find((x) => x.name === name);
    return at ? (at.ints ?? []).map(Number) : undefined;
  };
  const k = a('kernel_shape');
  if (!k || k.length !== 2 || k[0] !== k[1] || k[0] % 2 !== 1) return undefined;
  const s = a('strides') ?? [1, 1], d = a('dilations') ?? [1, 1], p = a('pads') ?? [0, 0, 0, 0];
  const autoPad = (n.attribute ?? []).find((x) => x.name === 'auto_pad');
  if (autoPad?.s && new TextDecoder().decode(autoPad.s) !== 'NOTSET') return undefined;
  if (s.some((v) => v !== 1) || d.some((v) => v !== 1) || p.some((v) => v !== (k[0] - 1) / 2)) return undefined;
  if (attrInt(n, 'storage_order', 0) !== 0) return undefined;
  return k[0];
}

/**
 * SPP: parallel stride-1 "same" MaxPools of one tensor with kernels k₁ < k₂ < … (YOLOX: 5, 9, 13) →
 * a cascade, MaxPool_{k_j}(x) = MaxPool_{k_j − k_{j−1} + 1}(MaxPool_{k_{j−1}}(x)) (a max over a window
 * of windows, −∞ padding: the same values). The backward then pools over 5 + 5 taps per stage
 * instead of k + k, and the forward's large windows go too.
 */
export function rewriteSpp(g: Graph): boolean {
  const byInput = new Map<string, { n: NodeProto; k: number }[]>();
  for (const n of g.nodes) {
    const k = samePoolKernel(n);
    if (k !== undefined) byInput.set((n.input ?? [])[0], [...(byInput.get((n.input ?? [])[0]) ?? []), { n, k }]);
  }
  let changed = false;
  for (const pools of byInput.values()) {
    if (pools.length < 2) continue;
    pools.sort((a, b) => a.k - b.k);
    for (let j = 1; j < pools.length; j++) {
      const prev = pools[j - 1], cur = pools[j];
      const b = cur.k - prev.k + 1;
      if (b < 3 || b % 2 !== 1 || b >= cur.k) continue;
      const h = (b - 1) / 2;
      cur.n.input = [(prev.n.output ?? [])[0], ...(cur.n.input ?? []).slice(1)];
      cur.n.attribute = (cur.n.attribute ?? []).map((a) => {
        if (a.name === 'kernel_shape') return { ...a, ints: [b, b] };
        if (a.name === 'pads') return { ...a, ints: [h, h, h, h] };
        return a;
      });
      changed = true;
    }
  }
  if (!changed) return false;
  // Inputs must be produced before use: move each pool right after its (new) producer.
  const order: NodeProto[] = [];
  const placed = new Set<NodeProto>();
  const producer = new Map<string, NodeProto>();
  for (const n of g.nodes) for (const o of n.output ?? []) producer.set(o, n);
  const visit = (n: NodeProto): void => {
    if (placed.has(n)) return;
    placed.add(n);
    for (const i of n.input ?? []) { const p = producer.get(i); if (p) visit(p); }
    order.push(n);
  };
  for (const n of g.nodes) visit(n);
  g.nodes = order;
  return true;
}

/**
 * After differentiation: Conv(SpaceToDepth(x, s), W) (stride 1, no dilation, one group) → one
 * Conv(x, W') with an s·k kernel and stride s, W'[o, c, s·i + a, s·j + b] = W[o, (a·s + b)·C + c, i, j]
 * (pads × s). Same values; saves YOLOX's full-resolution SpaceToDepth in the forward. Only the forward
 * is rewritten: the backward keeps the adjoint Conv + DepthToSpace (a stride-s ConvTranspose of the
 * large kernel is much slower). Applies when the SpaceToDepth output feeds only that Conv.
 */
export function foldSpaceToDepthConv(nodes: NodeProto[], inits: Map<string, TensorProto>, shapeOf: (t: string) => number[] | undefined): NodeProto[] {
  const uses = new Map<string, number>();
  for (const n of nodes) for (const i of n.input ?? []) uses.set(i, (uses.get(i) ?? 0) + 1);
  const producer = new Map<string, NodeProto>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  const drop = new Set<NodeProto>();
  const out = nodes.map((n) => {
    const [t, w, bias] = n.input ?? [];
    const s2d = producer.get(t);
    if (n.opType !== 'Conv' || s2d?.opType !== 'SpaceToDepth' || uses.get(t) !== 1) return n;
    const wt = inits.get(w);
    const ints = (name: string): number[] | undefined => (n.attribute ?? []).find((a) => a.name === name)?.ints?.map(Number);
    const autoPad = (n.attribute ?? []).find((a) => a.name === 'auto_pad');
    const s = attrInt(s2d, 'blocksize', 1);
    const xs = shapeOf((s2d.input ?? [])[0]);
    if (!wt || !xs || xs.length !== 4 || attrInt(n, 'group', 1) !== 1 || (autoPad?.s && new TextDecoder().decode(autoPad.s) !== 'NOTSET')) return n;
    if ((ints('strides') ?? [1, 1]).some((v) => v !== 1) || (ints('dilations') ?? [1, 1]).some((v) => v !== 1)) return n;
    const dims = (wt.dims ?? []).map(Number);
    if (dims.length !== 4) return n;
    const [co, ci, kh, kw] = dims;
    const C = xs[1];
    if (ci !== C * s * s) return n;
    const wv = tensorValues(wt);
    const KH = kh * s, KW = kw * s;
    const nw = new Float32Array(co * C * KH * KW);
    for (let o = 0; o < co; o++) for (let a = 0; a < s; a++) for (let b = 0; b < s; b++) for (let c = 0; c < C; c++)
      for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++)
        nw[((o * C + c) * KH + s * i + a) * KW + s * j + b] = wv[((o * ci + (a * s + b) * C + c) * kh + i) * kw + j];
    const wName = `${w}/s2d_folded`;
    inits.set(wName, floatTensor(wName, [co, C, KH, KW], nw));
    drop.add(s2d);
    const pads = (ints('pads') ?? [0, 0, 0, 0]).map((p) => p * s);
    return { ...n, input: [(s2d.input ?? [])[0], wName, ...(bias ? [bias] : [])], attribute: makeAttrs({ kernel_shape: [KH, KW], strides: [s, s], pads, dilations: [1, 1], group: 1 }) };
  });
  return out.filter((n) => !drop.has(n));
}
