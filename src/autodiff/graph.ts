// A mutable view of an ONNX graph plus a builder that emits nodes with fresh names.
import {
  type AttrValue, type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto,
  floatTensor, int64Tensor, makeAttrs,
} from './onnx-io.js';

export interface Graph {
  nodes: NodeProto[];
  inits: Map<string, TensorProto>;
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  opset: number;
}

export function graphFromProto(g: GraphProto, opset: number): Graph {
  const inits = new Map<string, TensorProto>();
  for (const t of g.initializer ?? []) inits.set(t.name ?? '', t);
  // IR < 4 models list initializers as inputs too; they are constants here.
  const inputs = (g.input ?? []).filter((i) => !inits.has(i.name ?? ''));
  return { nodes: [...(g.node ?? [])], inits, inputs, outputs: [...(g.output ?? [])], opset };
}

export function allNames(g: Graph): Set<string> {
  const s = new Set<string>(g.inits.keys());
  for (const i of g.inputs) s.add(i.name ?? '');
  for (const n of g.nodes) {
    for (const x of n.input ?? []) s.add(x);
    for (const x of n.output ?? []) s.add(x);
    if (n.name) s.add(n.name);
  }
  return s;
}

/** Emits nodes and constants with names that cannot clash with the source graph. */
/** Who produces each value, and how many consumers (nodes and graph outputs) each has. */
export function producersAndUses(g: Graph): { producer: Map<string, NodeProto>; uses: Map<string, number> } {
  const producer = new Map<string, NodeProto>();
  const uses = new Map<string, number>();
  for (const n of g.nodes) {
    for (const o of n.output ?? []) producer.set(o, n);
    for (const i of n.input ?? []) uses.set(i, (uses.get(i) ?? 0) + 1);
  }
  for (const o of g.outputs) uses.set(o.name ?? '', (uses.get(o.name ?? '') ?? 0) + 1);
  return { producer, uses };
}

export class Builder {
  readonly nodes: NodeProto[] = [];
  readonly inits = new Map<string, TensorProto>();
  private n = 0;
  private readonly scalarCache = new Map<string, string>();
  private readonly made = new Map<string, NodeProto>();

  constructor(private readonly used: Set<string>, private readonly prefix = 'vjp') {}

  fresh(hint: string): string {
    let name: string;
    do name = `${this.prefix}/${hint}_${this.n++}`; while (this.used.has(name));
    this.used.add(name);
    return name;
  }

  /** Emits one node; returns its output names. */
  ops(opType: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}, nOut = 1): string[] {
    const outputs = Array.from({ length: nOut }, () => this.fresh(opType));
    const node: NodeProto = { opType, input: inputs, output: outputs, name: this.fresh(`${opType}_node`), attribute: makeAttrs(attrs) };
    this.nodes.push(node);
    for (const o of outputs) this.made.set(o, node);
    return outputs;
  }

  /** The node this builder emitted for `t`, if any. */
  producer(t: string): NodeProto | undefined {
    return this.made.get(t);
  }

  op(opType: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}): string {
    return this.ops(opType, inputs, attrs, 1)[0];
  }

  constF(values: ArrayLike<number>, dims: number[]): string {
    const key = dims.length === 0 || (dims.length === 1 && dims[0] === 1) ? `f${dims.length}:${values[0]}` : '';
    const hit = key ? this.scalarCache.get(key) : undefined;
    if (hit) return hit;
    const name = this.fresh('c');
    this.inits.set(name, floatTensor(name, dims, values));
    if (key) this.scalarCache.set(key, name);
    return name;
  }

  constI64(values: ArrayLike<number>, dims: number[] = [values.length]): string {
    const key = `i${dims.join('x')}:${Array.from(values).join(',')}`;
    const hit = this.scalarCache.get(key);
    if (hit) return hit;
    const name = this.fresh('i');
    this.inits.set(name, int64Tensor(name, dims, values));
    this.scalarCache.set(key, name);
    return name;
  }

  addInit(t: TensorProto): string {
    const name = this.fresh('w');
    this.inits.set(name, { ...t, name });
    return name;
  }
}

/** Drops nodes and initializers that do not contribute to the given outputs. */
export function pruneDead(nodes: NodeProto[], inits: Map<string, TensorProto>, outputs: string[]): NodeProto[] {
  const live = new Set(outputs);
  const kept: NodeProto[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if ((n.output ?? []).some((o) => live.has(o))) {
      kept.push(n);
      for (const x of n.input ?? []) if (x) live.add(x);
    }
  }
  for (const k of [...inits.keys()]) if (!live.has(k)) inits.delete(k);
  return kept.reverse();
}
