// Forward rewrites that keep the model's function but give the backward a cheaper form.
import type { Graph } from './graph.js';
import { type NodeProto, attrInt, floatTensor, int64Tensor, makeAttrs, tensorValues } from './onnx-io.js';

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
