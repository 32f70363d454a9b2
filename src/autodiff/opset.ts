// Lifts a graph to the opset the backward ops need (≥ 13), rewriting forward nodes whose
// signature or semantics changed, and folds inference-form BatchNormalization into Conv.
import type { Graph } from './graph.js';
import { Builder, allNames, producersAndUses } from './graph.js';
import {
  type NodeProto, type TensorProto, attrFloat, attrFloats, attrInt, attrInts, attrString, findAttr,
  floatTensor, makeAttrs, tensorValues,
} from './onnx-io.js';
import { inferShapes } from './shapes.js';

export const MIN_OPSET = 13;

const withoutAttrs = (n: NodeProto, names: string[]): NodeProto => ({
  ...n,
  attribute: (n.attribute ?? []).filter((a) => !names.includes(a.name ?? '')),
});

/** Rewrites `g` in place to opset max(13, g.opset). */
export function liftOpset(g: Graph): void {
  const from = g.opset;
  const b = new Builder(allNames(g), 'lift');
  const out: NodeProto[] = [];
  for (const n of g.nodes) {
    const op = n.opType ?? '';
    const ins = [...(n.input ?? [])];
    if (op === 'Slice' && from < 10) {
      // Keep the raw Long values: INT64_MAX ends must stay exact.
      const longs = (name: string): TensorProto | undefined => {
        const a = findAttr(n, name);
        return a ? { dims: [(a.ints ?? []).length], dataType: 7, int64Data: [...(a.ints ?? [])] } : undefined;
      };
      const st = longs('starts')!, en = longs('ends')!, ax = longs('axes');
      const newIns = [ins[0], b.addInit(st), b.addInit(en)];
      if (ax) newIns.push(b.addInit(ax));
      out.push({ ...withoutAttrs(n, ['starts', 'ends', 'axes']), input: newIns });
    } else if ((op === 'Unsqueeze' || op === 'Squeeze') && from < 13) {
      const axes = attrInts(n, 'axes');
      out.push({ ...withoutAttrs(n, ['axes']), input: axes ? [ins[0], b.constI64(axes)] : [ins[0]] });
    } else if (op === 'Split' && from < 13) {
      const split = attrInts(n, 'split');
      out.push({ ...withoutAttrs(n, ['split']), input: split ? [ins[0], b.constI64(split)] : [ins[0]] });
    } else if (op === 'ReduceSum' && from < 13) {
      const axes = attrInts(n, 'axes');
      out.push({ ...withoutAttrs(n, ['axes']), input: axes ? [ins[0], b.constI64(axes)] : [ins[0]] });
    } else if (op === 'Clip' && from < 11) {
      const lo = attrFloat(n, 'min', -3.4028234663852886e38), hi = attrFloat(n, 'max', 3.4028234663852886e38);
      out.push({ ...withoutAttrs(n, ['min', 'max']), input: [ins[0], b.constF([lo], []), b.constF([hi], [])] });
    } else if (op === 'Pad' && from < 11) {
      const pads = attrInts(n, 'pads') ?? [];
      const value = attrFloat(n, 'value', 0);
      out.push({ ...withoutAttrs(n, ['pads', 'value']), input: [ins[0], b.constI64(pads), b.constF([value], [])] });
    } else if (op === 'Upsample' || (op === 'Resize' && from < 11)) {
      const mode = attrString(n, 'mode', 'nearest');
      const scales = attrFloats(n, 'scales');
      const scalesIn = scales ? b.constF(scales, [scales.length]) : ins[1];
      out.push({
        ...n, opType: 'Resize', input: [ins[0], '', scalesIn],
        attribute: makeAttrs({ mode, coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }),
      });
    } else if (op === 'BatchNormalization') {
      out.push(withoutAttrs(n, ['spatial', 'is_test', 'consumed_inputs']));
    } else if (op === 'Constant' && findAttr(n, 'value')?.t) {
      // Constants as initializers: weights held in Constant nodes become foldable.
      const t = findAttr(n, 'value')!.t!;
      g.inits.set((n.output ?? [])[0], { ...t, name: (n.output ?? [])[0] });
    } else if (op === 'Dropout') {
      out.push({ ...n, opType: 'Identity', input: [ins[0]], output: [(n.output ?? [])[0]], attribute: [] });
    } else out.push(n);
  }
  for (const [k, v] of b.inits) g.inits.set(k, v);
  g.nodes = out;
  if (from < 13) rewriteSoftmax(g, from);
  g.opset = Math.max(MIN_OPSET, from);
}

/** Before opset 13 Softmax flattened to 2-D at `axis`; make that explicit where it matters. */
function rewriteSoftmax(g: Graph, from: number): void {
  const info = inferShapes(g);
  const b = new Builder(allNames(g), 'lift');
  const out: NodeProto[] = [];
  for (const n of g.nodes) {
    const op = n.opType ?? '';
    if (op !== 'Softmax' && op !== 'LogSoftmax' && op !== 'Hardmax') { out.push(n); continue; }
    const shape = info.shapes.get((n.input ?? [])[0]);
    if (!shape) throw new Error(`${op} node ${n.name ?? ''}: input shape unknown, cannot lift from opset ${from}`);
    const rank = shape.length;
    let axis = attrInt(n, 'axis', 1);
    if (axis < 0) axis += rank;
    if (axis === rank - 1) { out.push({ ...n, attribute: makeAttrs({ axis: -1 }) }); continue; }
    const lead = shape.slice(0, axis).reduce((a, c) => a * c, 1);
    const flat = b.fresh('flat'), sm = b.fresh('sm');
    out.push({ opType: 'Reshape', input: [(n.input ?? [])[0], b.constI64([lead, -1])], output: [flat], name: b.fresh('n') });
    out.push({ ...n, input: [flat], output: [sm], attribute: makeAttrs({ axis: 1 }) });
    out.push({ opType: 'Reshape', input: [sm, b.constI64(shape)], output: [(n.output ?? [])[0]], name: b.fresh('n') });
  }
  for (const [k, v] of b.inits) g.inits.set(k, v);
  g.nodes = out;
}

/** Folds BatchNormalization that directly follows a Conv (sole consumer) into the Conv's weights. */
export function foldBatchNorm(g: Graph): void {
  const { producer, uses } = producersAndUses(g);
  const drop = new Set<NodeProto>();
  for (const bn of g.nodes) {
    if (bn.opType !== 'BatchNormalization' || (bn.output ?? []).length > 1 && (bn.output ?? []).slice(1).some((o) => o)) continue;
    const [x, sc, bi, mean, vr] = bn.input ?? [];
    const params = [sc, bi, mean, vr].map((p) => g.inits.get(p));
    const conv = producer.get(x);
    if (params.some((p) => !p) || !conv || conv.opType !== 'Conv' || uses.get(x) !== 1) continue;
    const w = g.inits.get((conv.input ?? [])[1]);
    const biasName = (conv.input ?? [])[2];
    const bias = biasName ? g.inits.get(biasName) : undefined;
    if (!w || (biasName && !bias)) continue;
    const eps = attrFloat(bn, 'epsilon', 1e-5);
    const [scale, beta, mu, variance] = params.map((p) => tensorValues(p as TensorProto));
    const cout = scale.length;
    const a = scale.map((s, i) => s / Math.sqrt(variance[i] + eps));
    const wv = tensorValues(w);
    const per = wv.length / cout;
    const nw = Float32Array.from(wv, (v, i) => v * a[Math.floor(i / per)]);
    const bv = bias ? tensorValues(bias) : Array(cout).fill(0);
    const nb = bv.map((v, i) => (v - mu[i]) * a[i] + beta[i]);
    const wName = `${x}/bnfold_w`, bName = `${x}/bnfold_b`;
    g.inits.set(wName, floatTensor(wName, (w.dims ?? []).map(Number), nw));
    g.inits.set(bName, floatTensor(bName, [cout], nb));
    conv.input = [(conv.input ?? [])[0], wName, bName];
    conv.output = [(bn.output ?? [])[0]];
    drop.add(bn);
  }
  g.nodes = g.nodes.filter((n) => !drop.has(n));
}
