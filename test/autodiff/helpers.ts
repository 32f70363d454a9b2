// Builds small ONNX graphs in tests and checks their VJP against central finite differences.
import { DT, encodeModel, floatTensor, int64Tensor, makeAttrs, type AttrValue, type NodeProto, type TensorProto, valueInfo } from '../../src/autodiff/onnx-io.js';
import { buildVjpModel } from '../../src/autodiff/vjp.js';
import { openSession, runSession } from '../../app/model-check/session.js';

export function node(opType: string, input: string[], output: string[], attrs: Record<string, AttrValue | undefined> = {}): NodeProto {
  return { opType, input, output, name: `${opType}_${output[0]}`, attribute: makeAttrs(attrs) };
}

let seed = 12345;
export function rand(): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32;
}
export function randn(n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand()));
}
export const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
export const W = (name: string, dims: number[], scale = 0.5): TensorProto => floatTensor(name, dims, randn(size(dims), scale));
export const I64 = (name: string, values: number[], dims = [values.length]): TensorProto => int64Tensor(name, dims, values);

export interface GraphSpec {
  nodes: NodeProto[];
  inits?: TensorProto[];
  x: number[];
  y: number[];
  opset?: number;
  /** Custom input values (e.g. keep away from kinks). */
  xValues?: Float32Array;
}

export function modelBytes(spec: GraphSpec): Uint8Array {
  return encodeModel({
    irVersion: 7,
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: 't', node: spec.nodes, initializer: spec.inits ?? [],
      input: [valueInfo('X', DT.FLOAT, spec.x)], output: [valueInfo('Y', DT.FLOAT, spec.y)],
    },
  });
}

/** Max relative error of ⟨dX, v⟩ against (f(X+εv) − f(X−εv))/2ε, f = ⟨Y, dY⟩, over random v. */
export async function vjpError(spec: GraphSpec, directions = 3, eps = 1e-3): Promise<number> {
  const bytes = modelBytes(spec);
  const fwd = (await openSession(bytes)).session;
  const vjp = (await openSession(buildVjpModel(bytes))).session;
  const x = spec.xValues ?? randn(size(spec.x));
  const dy = randn(size(spec.y));
  const { dX, Y } = await runSession(vjp, { X: { data: x, dims: spec.x }, dY: { data: dy, dims: spec.y } });
  const y0 = (await runSession(fwd, { X: { data: x, dims: spec.x } })).Y;
  for (let i = 0; i < y0.data.length; i++) if (Math.abs(y0.data[i] - Y.data[i]) > 1e-4 * (1 + Math.abs(y0.data[i]))) throw new Error(`forward output differs at ${i}`);
  const f = async (xv: Float32Array): Promise<number> => {
    const y = (await runSession(fwd, { X: { data: xv, dims: spec.x } })).Y.data;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * dy[i];
    return s;
  };
  let worst = 0;
  for (let k = 0; k < directions; k++) {
    const v = randn(x.length);
    const fd = ((await f(x.map((xi, i) => xi + eps * v[i]))) - (await f(x.map((xi, i) => xi - eps * v[i])))) / (2 * eps);
    let ad = 0;
    for (let i = 0; i < v.length; i++) ad += dX.data[i] * v[i];
    worst = Math.max(worst, Math.abs(ad - fd) / Math.max(Math.abs(ad), Math.abs(fd), 1e-6));
  }
  await fwd.release();
  await vjp.release();
  return worst;
}
