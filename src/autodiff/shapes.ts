// Static shape/type inference with constant folding of small integer sub-graphs
// (Shape → Gather → Concat → Reshape chains). Assumes the graph was lifted to opset ≥ 13.
import type { Graph } from './graph.js';
import {
  DT, type NodeProto, attrFloat, attrInt, attrInts, attrString, findAttr, tensorValues, valueInfoDims,
} from './onnx-io.js';

export interface ShapeInfo {
  shapes: Map<string, number[]>;
  dtypes: Map<string, number>;
  /** Values of small tensors known at transform time. */
  consts: Map<string, number[]>;
}

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
const normAxis = (a: number, rank: number): number => (a < 0 ? a + rank : a);

export function broadcastShapes(...shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v !== 1) {
        if (d !== 1 && d !== v) throw new Error(`cannot broadcast ${JSON.stringify(shapes)}`);
        d = v;
      }
    }
    out.push(d);
  }
  return out;
}

export interface Window { kernel: number[]; strides: number[]; dilations: number[]; pads: number[]; out: number[] }

/** Resolves kernel/stride/dilation/pads (incl. auto_pad) of a Conv or pool over spatial dims `inSpatial`. */
export function windowParams(node: NodeProto, inSpatial: number[], kernel: number[], ceilMode = false): Window {
  const nd = inSpatial.length;
  const strides = attrInts(node, 'strides') ?? Array(nd).fill(1);
  const dilations = attrInts(node, 'dilations') ?? Array(nd).fill(1);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let pads = attrInts(node, 'pads') ?? Array(2 * nd).fill(0);
  const out: number[] = [];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = Array(2 * nd).fill(0);
    for (let i = 0; i < nd; i++) {
      const o = Math.ceil(inSpatial[i] / strides[i]);
      const total = Math.max(0, (o - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - inSpatial[i]);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + nd] = total - pads[i];
      out.push(o);
    }
  } else {
    if (autoPad === 'VALID') pads = Array(2 * nd).fill(0);
    for (let i = 0; i < nd; i++) {
      const span = inSpatial[i] + pads[i] + pads[i + nd] - dilations[i] * (kernel[i] - 1) - 1;
      let o = (ceilMode ? Math.ceil(span / strides[i]) : Math.floor(span / strides[i])) + 1;
      // A window may not start inside the end padding (ceil_mode rule).
      if (ceilMode && (o - 1) * strides[i] >= inSpatial[i] + pads[i]) o--;
      out.push(o);
    }
  }
  return { kernel, strides, dilations, pads, out };
}

export interface ConvTransposeParams extends Window { outputPadding: number[] }

export function convTransposeParams(node: NodeProto, inSpatial: number[], kernel: number[]): ConvTransposeParams {
  const nd = inSpatial.length;
  const strides = attrInts(node, 'strides') ?? Array(nd).fill(1);
  const dilations = attrInts(node, 'dilations') ?? Array(nd).fill(1);
  const outputPadding = attrInts(node, 'output_padding') ?? Array(nd).fill(0);
  const outputShape = attrInts(node, 'output_shape');
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let pads = attrInts(node, 'pads') ?? Array(2 * nd).fill(0);
  const full = (i: number): number => strides[i] * (inSpatial[i] - 1) + outputPadding[i] + dilations[i] * (kernel[i] - 1) + 1;
  if (outputShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const target = outputShape ? outputShape.slice(-nd) : inSpatial.map((v, i) => v * strides[i]);
    pads = Array(2 * nd).fill(0);
    for (let i = 0; i < nd; i++) {
      const total = full(i) - target[i];
      const half = Math.floor(total / 2);
      if (autoPad === 'SAME_UPPER') { pads[i] = total - half; pads[i + nd] = half; } else { pads[i] = half; pads[i + nd] = total - half; }
    }
  }
  const out = inSpatial.map((_, i) => full(i) - pads[i] - pads[i + nd]);
  return { kernel, strides, dilations, pads, out, outputPadding };
}

function evalConst(op: string, node: NodeProto, ins: (number[] | undefined)[], inShapes: (number[] | undefined)[], outShape: number[] | undefined): number[] | undefined {
  const a = ins[0];
  switch (op) {
    case 'Identity': case 'Cast': case 'Reshape': case 'Unsqueeze': case 'Squeeze': case 'Flatten':
      return a;
    case 'Add': case 'Sub': case 'Mul': case 'Div': {
      const b = ins[1];
      if (!a || !b || !outShape) return undefined;
      if (a.length !== 1 && b.length !== 1 && a.length !== b.length) return undefined;
      const n = Math.max(a.length, b.length);
      const isInt = (node as { _int?: boolean })._int;
      return Array.from({ length: n }, (_, i) => {
        const x = a[a.length === 1 ? 0 : i], y = b[b.length === 1 ? 0 : i];
        const r = op === 'Add' ? x + y : op === 'Sub' ? x - y : op === 'Mul' ? x * y : x / y;
        return isInt && op === 'Div' ? Math.trunc(r) : r;
      });
    }
    case 'Concat':
      if (ins.every((v) => v) && inShapes.every((s) => s && s.length <= 1)) return ins.flatMap((v) => v as number[]);
      return undefined;
    case 'Gather': {
      const idx = ins[1];
      const s = inShapes[0];
      if (!a || !idx || !s || s.length !== 1) return undefined;
      return idx.map((i) => a[i < 0 ? i + a.length : i]);
    }
    case 'Slice': {
      const s = inShapes[0];
      if (!a || !s || s.length !== 1 || !ins[1] || !ins[2]) return undefined;
      const step = ins[4]?.[0] ?? 1;
      const n = a.length;
      let st = ins[1][0], en = ins[2][0];
      st = st < 0 ? st + n : st; en = en < 0 ? en + n : en;
      const out: number[] = [];
      if (step > 0) { st = Math.max(0, Math.min(n, st)); en = Math.max(0, Math.min(n, en)); for (let i = st; i < en; i += step) out.push(a[i]); }
      else { st = Math.max(-1, Math.min(n - 1, st)); en = Math.max(-1, Math.min(n - 1, en)); for (let i = st; i > en; i += step) out.push(a[i]); }
      return out;
    }
    case 'ConstantOfShape': {
      if (!outShape || size(outShape) > 4096) return undefined;
      const t = findAttr(node, 'value')?.t;
      const v = t ? tensorValues(t)[0] : 0;
      return Array(size(outShape)).fill(v);
    }
    case 'Range': {
      if (!a || !ins[1] || !ins[2]) return undefined;
      const out: number[] = [];
      for (let v = a[0]; ins[2][0] > 0 ? v < ins[1][0] : v > ins[1][0]; v += ins[2][0]) out.push(v);
      return out;
    }
    default:
      return undefined;
  }
}

/** Infers shapes for every tensor; `inputShapes` overrides (and fixes) dynamic graph inputs. */
export function inferShapes(g: Graph, inputShapes: Record<string, number[]> = {}): ShapeInfo {
  const shapes = new Map<string, number[]>();
  const dtypes = new Map<string, number>();
  const consts = new Map<string, number[]>();
  for (const [name, t] of g.inits) {
    const dims = (t.dims ?? []).map(Number);
    shapes.set(name, dims);
    dtypes.set(name, t.dataType ?? DT.FLOAT);
    if (size(dims) <= 4096) consts.set(name, tensorValues(t));
  }
  for (const i of g.inputs) {
    const name = i.name ?? '';
    const given = inputShapes[name];
    const dims = valueInfoDims(i);
    if (given) shapes.set(name, given);
    else if (dims.every((d) => d !== undefined)) shapes.set(name, dims as number[]);
    dtypes.set(name, i.type?.tensorType?.elemType ?? DT.FLOAT);
  }
  for (const n of g.nodes) inferNode(n, shapes, dtypes, consts);
  return { shapes, dtypes, consts };
}

function inferNode(n: NodeProto, shapes: Map<string, number[]>, dtypes: Map<string, number>, consts: Map<string, number[]>): void {
  const op = n.opType ?? '';
  const inputs = n.input ?? [];
  const outs = n.output ?? [];
  const S = (i: number): number[] | undefined => (inputs[i] ? shapes.get(inputs[i]) : undefined);
  const C = (i: number): number[] | undefined => (inputs[i] ? consts.get(inputs[i]) : undefined);
  const in0 = S(0);
  const dt0 = inputs[0] ? dtypes.get(inputs[0]) ?? DT.FLOAT : DT.FLOAT;
  let out: number[] | undefined;
  let dtype = dt0;
  const extra: [string, number[], number][] = [];
  try {
    switch (op) {
      case 'Constant': {
        const t = findAttr(n, 'value')?.t;
        const f = findAttr(n, 'value_float'), fs = findAttr(n, 'value_floats'), i1 = findAttr(n, 'value_int'), is = findAttr(n, 'value_ints');
        if (t) { out = (t.dims ?? []).map(Number); dtype = t.dataType ?? DT.FLOAT; if (size(out) <= 4096) consts.set(outs[0], tensorValues(t)); }
        else if (f) { out = []; dtype = DT.FLOAT; consts.set(outs[0], [attrFloat(n, 'value_float', 0)]); }
        else if (fs) { const v = fs.floats ?? []; out = [v.length]; dtype = DT.FLOAT; consts.set(outs[0], [...v]); }
        else if (i1) { out = []; dtype = DT.INT64; consts.set(outs[0], [attrInt(n, 'value_int', 0)]); }
        else if (is) { const v = attrInts(n, 'value_ints') ?? []; out = [v.length]; dtype = DT.INT64; consts.set(outs[0], v); }
        break;
      }
      case 'Shape':
        dtype = DT.INT64;
        if (in0) { out = [in0.length]; consts.set(outs[0], [...in0]); }
        break;
      case 'Size': dtype = DT.INT64; out = []; if (in0) consts.set(outs[0], [size(in0)]); break;
      case 'Cast': dtype = attrInt(n, 'to', DT.FLOAT); out = in0; break;
      case 'Identity': case 'Relu': case 'Sigmoid': case 'Tanh': case 'Exp': case 'Log': case 'Neg': case 'Abs': case 'Sqrt':
      case 'LeakyRelu': case 'Clip': case 'HardSigmoid': case 'HardSwish': case 'Softmax': case 'LogSoftmax': case 'Elu':
      case 'Dropout': case 'Softplus': case 'Erf': case 'Reciprocal': case 'Floor': case 'Ceil': case 'Round': case 'Not':
      case 'LRN': case 'InstanceNormalization': case 'BatchNormalization': case 'Mish': case 'Gelu': case 'Selu': case 'PRelu':
        out = in0; break;
      case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Pow': case 'Max': case 'Min': case 'Sum': case 'Mean':
      case 'Equal': case 'Greater': case 'Less': case 'GreaterOrEqual': case 'LessOrEqual': case 'And': case 'Or': case 'Where': {
        const ss = inputs.map((_, i) => S(i));
        if (ss.every((s) => s)) out = broadcastShapes(...(ss as number[][]));
        if (['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'And', 'Or'].includes(op)) dtype = DT.BOOL;
        if (op === 'Where') dtype = dtypes.get(inputs[1]) ?? DT.FLOAT;
        break;
      }
      case 'Conv': {
        const w = S(1);
        if (in0 && w) {
          const kernel = attrInts(n, 'kernel_shape') ?? w.slice(2);
          const p = windowParams(n, in0.slice(2), kernel);
          out = [in0[0], w[0], ...p.out];
        }
        break;
      }
      case 'ConvTranspose': {
        const w = S(1);
        if (in0 && w) {
          const kernel = attrInts(n, 'kernel_shape') ?? w.slice(2);
          const p = convTransposeParams(n, in0.slice(2), kernel);
          out = [in0[0], w[1] * attrInt(n, 'group', 1), ...p.out];
        }
        break;
      }
      case 'MaxPool': case 'AveragePool': case 'LpPool': {
        if (in0) {
          const kernel = attrInts(n, 'kernel_shape') ?? [];
          const p = windowParams(n, in0.slice(2), kernel, attrInt(n, 'ceil_mode', 0) === 1);
          out = [in0[0], in0[1], ...p.out];
          if (outs[1]) extra.push([outs[1], out, DT.INT64]);
        }
        break;
      }
      case 'GlobalAveragePool': case 'GlobalMaxPool':
        if (in0) out = [in0[0], in0[1], ...in0.slice(2).map(() => 1)];
        break;
      case 'Gemm': {
        const b = S(1);
        if (in0 && b) out = [attrInt(n, 'transA', 0) ? in0[1] : in0[0], attrInt(n, 'transB', 0) ? b[0] : b[1]];
        break;
      }
      case 'MatMul': {
        const b = S(1);
        if (in0 && b && in0.length >= 2 && b.length >= 2) {
          const batch = broadcastShapes(in0.slice(0, -2), b.slice(0, -2));
          out = [...batch, in0[in0.length - 2], b[b.length - 1]];
        }
        break;
      }
      case 'Concat': {
        const ss = inputs.map((_, i) => S(i));
        if (ss.every((s) => s)) {
          const rank = (ss[0] as number[]).length;
          const ax = normAxis(attrInt(n, 'axis', 0), rank);
          out = [...(ss[0] as number[])];
          out[ax] = ss.reduce((acc, s) => acc + (s as number[])[ax], 0);
        }
        break;
      }
      case 'Split': {
        if (in0) {
          const ax = normAxis(attrInt(n, 'axis', 0), in0.length);
          const parts = C(1) ?? Array(outs.length).fill(Math.ceil(in0[ax] / outs.length)).map((v, i) => Math.min(v, in0[ax] - i * v));
          outs.forEach((o, i) => { const s = [...in0]; s[ax] = parts[i]; extra.push([o, s, dt0]); });
        }
        break;
      }
      case 'Slice': {
        const st = C(1), en = C(2);
        if (in0 && st && en) {
          const axes = (C(3) ?? st.map((_, i) => i)).map((a) => normAxis(a, in0.length));
          const steps = C(4) ?? st.map(() => 1);
          out = [...in0];
          axes.forEach((ax, i) => { out![ax] = sliceRange(in0[ax], st[i], en[i], steps[i]).count; });
        }
        break;
      }
      case 'Gather': {
        const idxS = S(1);
        if (in0 && idxS) {
          const ax = normAxis(attrInt(n, 'axis', 0), in0.length);
          out = [...in0.slice(0, ax), ...idxS, ...in0.slice(ax + 1)];
        }
        break;
      }
      case 'SpaceToDepth': case 'DepthToSpace': {
        const bs = attrInt(n, 'blocksize', 1);
        if (in0 && in0.length === 4) {
          const [N, Cc, H, W] = in0;
          out = n.opType === 'SpaceToDepth' ? [N, Cc * bs * bs, H / bs, W / bs] : [N, Cc / (bs * bs), H * bs, W * bs];
        }
        break;
      }
      case 'Pad': {
        const pads = C(1);
        if (in0 && pads) {
          const axes = C(3)?.map((a) => normAxis(a, in0.length)) ?? in0.map((_, i) => i);
          out = [...in0];
          axes.forEach((ax, i) => { out![ax] += pads[i] + pads[i + axes.length]; });
        }
        break;
      }
      case 'Reshape': {
        const target = C(1);
        if (in0 && target) {
          const allowZero = attrInt(n, 'allowzero', 0) === 1;
          const s = target.map((v, i) => (v === 0 && !allowZero ? in0[i] : v));
          const known = s.filter((v) => v !== -1).reduce((a, b) => a * b, 1);
          out = s.map((v) => (v === -1 ? size(in0) / known : v));
        }
        break;
      }
      case 'Flatten':
        if (in0) { const ax = normAxis(attrInt(n, 'axis', 1), in0.length); out = [size(in0.slice(0, ax)), size(in0.slice(ax))]; }
        break;
      case 'Transpose':
        if (in0) { const perm = attrInts(n, 'perm') ?? in0.map((_, i) => in0.length - 1 - i); out = perm.map((p) => in0[p]); }
        break;
      case 'Squeeze': {
        if (in0) {
          const axes = (C(1) ?? in0.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((a) => normAxis(a, in0.length));
          out = in0.filter((_, i) => !axes.includes(i));
        }
        break;
      }
      case 'Unsqueeze': {
        const axesRaw = C(1);
        if (in0 && axesRaw) {
          const rank = in0.length + axesRaw.length;
          const axes = axesRaw.map((a) => normAxis(a, rank));
          out = [];
          let j = 0;
          for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : in0[j++]);
        }
        break;
      }
      case 'Resize': {
        const scales = C(2), sizes = C(3);
        if (in0) {
          if (sizes && sizes.length) out = sizes;
          else if (scales && scales.length) out = in0.map((d, i) => Math.floor(d * scales[i]));
        }
        break;
      }
      case 'ReduceSum': case 'ReduceMean': case 'ReduceMax': case 'ReduceMin': case 'ReduceProd': case 'ReduceL2': {
        if (in0) {
          const axesIn = (op === 'ReduceSum' ? C(1) : (attrInts(n, 'axes') ?? C(1))) ?? [];
          const noop = attrInt(n, 'noop_with_empty_axes', 0) === 1;
          const axes = axesIn.length ? axesIn.map((a) => normAxis(a, in0.length)) : noop ? [] : in0.map((_, i) => i);
          const keep = attrInt(n, 'keepdims', 1) === 1;
          out = keep ? in0.map((d, i) => (axes.includes(i) ? 1 : d)) : in0.filter((_, i) => !axes.includes(i));
        }
        break;
      }
      case 'ArgMax': case 'ArgMin': {
        dtype = DT.INT64;
        if (in0) {
          const ax = normAxis(attrInt(n, 'axis', 0), in0.length);
          out = attrInt(n, 'keepdims', 1) ? in0.map((d, i) => (i === ax ? 1 : d)) : in0.filter((_, i) => i !== ax);
        }
        break;
      }
      case 'Expand': {
        const t = C(1);
        if (in0 && t) out = broadcastShapes(in0, t);
        break;
      }
      case 'ConstantOfShape': {
        const t = C(0);
        if (t) out = t;
        const v = findAttr(n, 'value')?.t;
        dtype = v?.dataType ?? DT.FLOAT;
        break;
      }
      case 'Range': {
        const a = C(0), b = C(1), c = C(2);
        if (a && b && c) out = [Math.max(0, Math.ceil((b[0] - a[0]) / c[0]))];
        break;
      }
      case 'Tile': {
        const r = C(1);
        if (in0 && r) out = in0.map((d, i) => d * r[i]);
        break;
      }
      default:
        break;
    }
  } catch {
    out = undefined;
  }
  if (out) shapes.set(outs[0], out);
  if (outs[0]) dtypes.set(outs[0], dtype);
  for (const [name, s, d] of extra) { shapes.set(name, s); dtypes.set(name, d); }
  if (outs.length === 1 && !consts.has(outs[0]) && inputs.length > 0 && inputs.every((i) => !i || consts.has(i))) {
    const marked = { ...n, _int: dtype !== DT.FLOAT && dtype !== DT.DOUBLE };
    const v = evalConst(op, marked, inputs.map((i) => (i ? consts.get(i) : undefined)), inputs.map((i) => shapes.get(i)), out);
    if (v) consts.set(outs[0], v);
  }
}

/** Resolved Slice range on one axis: first index, step, element count. */
export function sliceRange(dim: number, start: number, end: number, step: number): { start: number; step: number; count: number } {
  if (step > 0) {
    let s = start < 0 ? start + dim : start; let e = end < 0 ? end + dim : end;
    s = Math.max(0, Math.min(dim, s)); e = Math.max(0, Math.min(dim, e));
    return { start: s, step, count: Math.max(0, Math.ceil((e - s) / step)) };
  }
  let s = start < 0 ? start + dim : start; let e = end < 0 ? end + dim : end;
  s = Math.max(-1, Math.min(dim - 1, s)); e = Math.max(-1, Math.min(dim - 1, e));
  return { start: s, step, count: Math.max(0, Math.ceil((s - e) / -step)) };
}
