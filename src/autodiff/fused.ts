// Fused VJP: the seed is computed in-graph from Y through the proxy objective.
import { Builder, allNames } from './graph.js';
import { type ScoreMapName, buildProxy, scoreMaps } from './objective.js';
import { GRAD_NAME, type VjpOptions, assemble, differentiate, prepare } from './vjp.js';
import { decodeModel } from './onnx-io.js';
import { inferShapes } from './shapes.js';

export const MASK_NAME = 'mask';
export const PROXY_NAME = 'A';

/** Fused model: inputs (X, mask) → outputs (dX, Y, A), A = Σ mask · σ(20(S(Y) − 0.5)). */
export function buildFusedModel(bytes: Uint8Array, scoreMap: ScoreMapName, opts: VjpOptions = {}): Uint8Array {
  const sm = scoreMaps[scoreMap];
  if (!sm) throw new Error(`unknown score map ${scoreMap}`);
  const outputs = (decodeModel(bytes).graph?.output ?? []).map((o) => o.name ?? '');
  const p = prepare(bytes, { ...opts, output: opts.output ?? sm.pickOutput(outputs) });
  const yShape = p.info.shapes.get(p.y);
  if (!yShape) throw new Error(`shape of output ${p.y} could not be inferred`);
  const fwd = new Builder(allNames(p.g), 'proxy');
  const s = sm.build(fwd, p.y, yShape);
  const a = buildProxy(fwd, s, MASK_NAME);
  fwd.nodes.push({ opType: 'Identity', input: [a], output: [PROXY_NAME], name: fwd.fresh('out') });
  p.g.nodes.push(...fwd.nodes);
  for (const [k, v] of fwd.inits) p.g.inits.set(k, v);
  const maskShape = sm.shape(yShape);
  p.g.inputs.push({ name: MASK_NAME });
  p.info = inferShapes(p.g, { [p.x]: p.xShape, [MASK_NAME]: maskShape });
  const b = new Builder(allNames(p.g));
  const dx = differentiate(p.g, p.info, p.x, PROXY_NAME, b.constF([1], []), b);
  b.nodes.push({ opType: 'Identity', input: [dx], output: [GRAD_NAME], name: b.fresh('out') });
  return assemble(p, b, [{ name: p.x, shape: p.xShape }, { name: MASK_NAME, shape: maskShape }],
    [{ name: GRAD_NAME, shape: p.xShape }, { name: p.y, shape: yShape }, { name: PROXY_NAME, shape: [] }]);
}
