// Builds a vector–Jacobian-product ONNX model from an inference model.
import { type Activity, analyzeActivity, pathFrom } from './activity.js';
import { Builder, type Graph, allNames, graphFromProto, producersAndUses, pruneDead } from './graph.js';
import {
  DT, type ModelProto, type NodeProto, decodeModel, encodeModel, valueInfo, valueInfoDims,
} from './onnx-io.js';
import { foldBatchNorm, liftOpset } from './opset.js';
import { foldSpaceToDepthConv, rewriteFocus, rewriteSpp } from './rewrite.js';
import { RULES, type RuleCtx } from './rules/index.js';
import { type ShapeInfo, inferShapes } from './shapes.js';

export interface VjpOptions {
  /** Differentiated input (default: the first graph input). */
  input?: string;
  /** Output whose cotangent is seeded (default: the first graph output). */
  output?: string;
  /** Static shape for the input; required when the model's input has dynamic dims (default fills N=1, H=352, W=640). */
  inputShape?: number[];
}

export const SEED_NAME = 'dY';
export const GRAD_NAME = 'dX';

export interface Prepared {
  model: ModelProto;
  g: Graph;
  info: ShapeInfo;
  x: string;
  y: string;
  xShape: number[];
}

/** Decodes, lifts to opset ≥ 13, folds BatchNorm and infers static shapes. */
export function prepare(bytes: Uint8Array, opts: VjpOptions = {}): Prepared {
  const model = decodeModel(bytes);
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version;
  const g = graphFromProto(model.graph ?? {}, Number(opset ?? 13));
  liftOpset(g);
  foldBatchNorm(g);
  const x = opts.input ?? g.inputs[0]?.name ?? '';
  const xi = g.inputs.find((i) => i.name === x);
  if (!xi) throw new Error(`input ${x} not found; inputs: ${g.inputs.map((i) => i.name).join(', ')}`);
  const y = opts.output ?? g.outputs[0]?.name ?? '';
  if (!g.outputs.some((o) => o.name === y)) throw new Error(`output ${y} not found; outputs: ${g.outputs.map((o) => o.name).join(', ')}`);
  const dims = valueInfoDims(xi);
  const fallback = [1, 3, 352, 640];
  const xShape = opts.inputShape ?? dims.map((d, i) => d ?? (dims.length === 4 ? fallback[i] : 1));
  let info = inferShapes(g, { [x]: xShape });
  if (rewriteFocus(g, (t) => info.shapes.get(t))) info = inferShapes(g, { [x]: xShape });
  if (rewriteSpp(g)) info = inferShapes(g, { [x]: xShape });
  return { model, g, info, x, y, xShape };
}

/** Emits backward nodes; returns the name of the gradient w.r.t. x. */
export function differentiate(g: Graph, info: ShapeInfo, x: string, y: string, seed: string, b: Builder): string {
  const act: Activity = analyzeActivity(g, info, x, y);
  const { producer, uses } = producersAndUses(g);
  const fail = (node: NodeProto, why: string): never => {
    const out = (node.output ?? [])[0] ?? '';
    throw new Error(`${why} — op ${node.opType}, node '${node.name || out}', path: ${pathFrom(act, x, out)}`);
  };
  const ctx: RuleCtx = {
    b, info, opset: g.opset,
    shape: (t) => {
      const s = info.shapes.get(t);
      if (!s) throw new Error(`shape of ${t} is unknown (produced by ${producer.get(t)?.opType ?? 'input'}); static shapes are required`);
      return s;
    },
    isActive: (t) => act.active.has(t),
    constOf: (t) => info.consts.get(t),
    init: (t) => g.inits.get(t),
    uses: (t) => uses.get(t) ?? 0,
    producer: (t) => producer.get(t),
    reduceTo: (gr, from, to) => reduceTo(b, gr, from, to),
    fail,
  };
  const grads = new Map<string, string[]>([[y, [seed]]]);
  const total = (t: string): string | undefined => {
    const list = grads.get(t);
    if (!list || list.length === 0) return undefined;
    if (list.length > 1) grads.set(t, [b.op('Sum', list)]);
    return (grads.get(t) as string[])[0];
  };
  for (let i = act.nodes.length - 1; i >= 0; i--) {
    const n = act.nodes[i];
    const gOut = (n.output ?? []).map((o) => (act.active.has(o) ? total(o) : undefined));
    if (gOut.every((v) => v === undefined)) continue;
    const rule = RULES[n.opType ?? ''];
    if (!rule || (n.domain && n.domain !== 'ai.onnx')) fail(n, `no gradient rule for op ${n.domain ? `${n.domain}.` : ''}${n.opType}`);
    const gIn = rule(ctx, n, gOut);
    (n.input ?? []).forEach((inp, k) => {
      const gi = gIn[k];
      if (gi && act.active.has(inp)) grads.set(inp, [...(grads.get(inp) ?? []), gi]);
    });
  }
  const dx = total(x);
  if (!dx) throw new Error(`no gradient reaches ${x}`);
  return dx;
}

export function reduceTo(b: Builder, g: string, from: number[], to: number[]): string {
  if (from.length === to.length && from.every((d, i) => d === to[i])) return g;
  const lead = from.length - to.length;
  const axes: number[] = [];
  for (let i = 0; i < from.length; i++) if (i < lead || (to[i - lead] === 1 && from[i] !== 1)) axes.push(i);
  let t = axes.length ? b.op('ReduceSum', [g, b.constI64(axes)], { keepdims: 1 }) : g;
  if (lead > 0 || axes.length === 0) t = b.op('Reshape', [t, b.constI64(to)]);
  return t;
}

/** Assembles the final model: forward nodes (pruned) + backward nodes. */
export function assemble(p: Prepared, b: Builder, inputs: { name: string; shape: number[] }[], outputs: { name: string; shape: number[] }[]): Uint8Array {
  const inits = new Map([...p.g.inits, ...b.inits]);
  let nodes = pruneDead([...p.g.nodes, ...b.nodes], inits, outputs.map((o) => o.name));
  nodes = pruneDead(foldSpaceToDepthConv(nodes, inits, (t) => p.info.shapes.get(t)), inits, outputs.map((o) => o.name));
  const opsets = (p.model.opsetImport ?? []).filter((o) => o.domain && o.domain !== 'ai.onnx');
  const model: ModelProto = {
    irVersion: Math.max(Number(p.model.irVersion ?? 7), 7),
    producerName: 'oneadapt-autodiff',
    opsetImport: [{ domain: '', version: p.g.opset }, ...opsets],
    graph: {
      name: `${p.model.graph?.name ?? 'model'}_vjp`,
      node: nodes,
      initializer: [...inits.values()],
      input: inputs.map((i) => valueInfo(i.name, DT.FLOAT, i.shape)),
      output: outputs.map((o) => valueInfo(o.name, DT.FLOAT, o.shape)),
    },
  };
  return encodeModel(model);
}

function assertFree(p: Prepared, names: string[]): void {
  const used = allNames(p.g);
  for (const n of names) if (used.has(n)) throw new Error(`tensor name ${n} already exists in the model`);
}

/** VJP model: inputs (X, dY) → outputs (dX, Y). */
export function buildVjpModel(bytes: Uint8Array, opts: VjpOptions = {}): Uint8Array {
  const p = prepare(bytes, opts);
  assertFree(p, [SEED_NAME, GRAD_NAME]);
  const b = new Builder(allNames(p.g));
  const dx = differentiate(p.g, p.info, p.x, p.y, SEED_NAME, b);
  b.nodes.push({ opType: 'Identity', input: [dx], output: [GRAD_NAME], name: b.fresh('out') });
  const yShape = p.info.shapes.get(p.y);
  if (!yShape) throw new Error(`shape of output ${p.y} could not be inferred`);
  return assemble(p, b, [{ name: p.x, shape: p.xShape }, { name: SEED_NAME, shape: yShape }],
    [{ name: GRAD_NAME, shape: p.xShape }, { name: p.y, shape: yShape }]);
}
