// Activity analysis: the nodes that carry derivatives from X to Y.
import type { Graph } from './graph.js';
import type { NodeProto } from './onnx-io.js';
import { isFloatType } from './onnx-io.js';
import type { ShapeInfo } from './shapes.js';

/** Ops whose outputs carry no derivative (integer-valued, comparisons, shape queries). */
const NON_DIFFERENTIABLE = new Set([
  'Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero', 'Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual',
  'And', 'Or', 'Not', 'Xor', 'Floor', 'Ceil', 'Round', 'Sign', 'ConstantOfShape', 'Range', 'RandomNormalLike',
  'RandomUniformLike', 'TopK', 'NonMaxSuppression', 'IsNaN', 'IsInf', 'EyeLike',
]);

export interface Activity {
  /** Active nodes in forward (topological) order. */
  nodes: NodeProto[];
  /** Float tensors on a path from X to Y. */
  active: Set<string>;
  /** For error messages: the producing node of each X-dependent tensor. */
  producer: Map<string, NodeProto>;
}

export function analyzeActivity(g: Graph, info: ShapeInfo, x: string, y: string): Activity {
  const isFloat = (t: string): boolean => isFloatType(info.dtypes.get(t) ?? 1);
  const varied = new Set<string>([x]);
  const producer = new Map<string, NodeProto>();
  for (const n of g.nodes) {
    if (NON_DIFFERENTIABLE.has(n.opType ?? '')) continue;
    if (!(n.input ?? []).some((i) => varied.has(i))) continue;
    for (const o of n.output ?? []) if (o && isFloat(o)) { varied.add(o); producer.set(o, n); }
  }
  if (!varied.has(y)) throw new Error(`output ${y} does not depend on input ${x}`);
  const useful = new Set<string>([y]);
  const nodes: NodeProto[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (!(n.output ?? []).some((o) => useful.has(o) && varied.has(o))) continue;
    nodes.push(n);
    for (const inp of n.input ?? []) if (varied.has(inp)) useful.add(inp);
  }
  const active = new Set([...useful].filter((t) => varied.has(t)));
  return { nodes: nodes.reverse(), active, producer };
}

/** "X → Conv(conv1) → Relu(relu1) → …" for error messages. */
export function pathFrom(act: Activity, x: string, tensor: string): string {
  const chain: string[] = [];
  let t: string | undefined = tensor;
  const seen = new Set<string>();
  while (t && t !== x && !seen.has(t)) {
    seen.add(t);
    const n = act.producer.get(t);
    if (!n) break;
    chain.push(`${n.opType}(${n.name || (n.output ?? [])[0]})`);
    t = (n.input ?? []).find((i) => act.producer.has(i) || i === x);
  }
  return [x, ...chain.reverse()].join(' → ');
}
