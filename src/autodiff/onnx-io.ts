// ONNX protobuf I/O and small helpers for tensors and attributes.
// int64 values stay as protobufjs Long objects so INT64_MAX sentinels survive a round trip.
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.IModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

export const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

/** A protobufjs Long or a plain number (what int64 fields decode to). */
type IntLike = number | { toNumber(): number; toString(): string };

export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export function toNum(v: IntLike | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** Long → number, clamping the INT64 sentinels ONNX uses for "to the end". */
export function toClampedNum(v: IntLike): number {
  const n = toNum(v);
  if (n > 2 ** 53) return Number.MAX_SAFE_INTEGER;
  if (n < -(2 ** 53)) return -Number.MAX_SAFE_INTEGER;
  return n;
}

export function findAttr(node: NodeProto, name: string): AttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}
export function attrInt(node: NodeProto, name: string, dflt: number): number {
  const a = findAttr(node, name);
  return a ? toNum(a.i as IntLike) : dflt;
}
export function attrFloat(node: NodeProto, name: string, dflt: number): number {
  const a = findAttr(node, name);
  return a && a.f !== undefined && a.f !== null ? a.f : dflt;
}
export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = findAttr(node, name);
  return a ? (a.ints ?? []).map((v) => toClampedNum(v as IntLike)) : undefined;
}
export function attrFloats(node: NodeProto, name: string): number[] | undefined {
  const a = findAttr(node, name);
  return a ? [...(a.floats ?? [])] : undefined;
}
export function attrString(node: NodeProto, name: string, dflt: string): string {
  const a = findAttr(node, name);
  if (!a || !a.s) return dflt;
  return Buffer.from(a.s).toString('utf8');
}

export type AttrValue = number | number[] | string | { floats: number[] } | { float: number } | TensorProto;
/** Builds attributes; integers become INT/INTS, `{float}`/`{floats}` force float kinds. */
export function makeAttrs(attrs: Record<string, AttrValue | undefined>): AttributeProto[] {
  const out: AttributeProto[] = [];
  for (const [name, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    if (typeof v === 'number') out.push({ name, type: AT.INT, i: v });
    else if (typeof v === 'string') out.push({ name, type: AT.STRING, s: Buffer.from(v, 'utf8') });
    else if (Array.isArray(v)) out.push({ name, type: AT.INTS, ints: v });
    else if ('floats' in v) out.push({ name, type: AT.FLOATS, floats: v.floats });
    else if ('float' in v) out.push({ name, type: AT.FLOAT, f: v.float });
    else out.push({ name, type: AT.TENSOR, t: v });
  }
  return out;
}

export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): TensorProto {
  return { name, dataType: DT.FLOAT, dims, rawData: new Uint8Array(Float32Array.from(values).buffer) };
}
export function int64Tensor(name: string, dims: number[], values: ArrayLike<number>): TensorProto {
  const b = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) b[i] = BigInt(values[i]);
  return { name, dataType: DT.INT64, dims, rawData: new Uint8Array(b.buffer) };
}

/** Tensor contents as numbers (int64 clamped to the safe range; only used for shapes/indices/params). */
export function tensorValues(t: TensorProto): number[] {
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const dt = t.dataType ?? DT.FLOAT;
  if (raw) {
    const buf = Buffer.from(raw);
    const out: number[] = [];
    switch (dt) {
      case DT.FLOAT: for (let i = 0; i < buf.length; i += 4) out.push(buf.readFloatLE(i)); return out;
      case DT.DOUBLE: for (let i = 0; i < buf.length; i += 8) out.push(buf.readDoubleLE(i)); return out;
      case DT.INT64: for (let i = 0; i < buf.length; i += 8) out.push(toClampedBig(buf.readBigInt64LE(i))); return out;
      case DT.INT32: for (let i = 0; i < buf.length; i += 4) out.push(buf.readInt32LE(i)); return out;
      case DT.UINT8: for (let i = 0; i < buf.length; i++) out.push(buf[i]); return out;
      case DT.INT8: for (let i = 0; i < buf.length; i++) out.push(buf.readInt8(i)); return out;
      case DT.BOOL: for (let i = 0; i < buf.length; i++) out.push(buf[i]); return out;
      default: throw new Error(`unsupported tensor data type ${dt} in ${t.name}`);
    }
  }
  if (dt === DT.FLOAT) return [...(t.floatData ?? [])];
  if (dt === DT.DOUBLE) return [...(t.doubleData ?? [])];
  if (dt === DT.INT64) return (t.int64Data ?? []).map((v) => toClampedNum(v as IntLike));
  return [...(t.int32Data ?? [])];
}

function toClampedBig(b: bigint): number {
  const lim = BigInt(Number.MAX_SAFE_INTEGER);
  if (b > lim) return Number.MAX_SAFE_INTEGER;
  if (b < -lim) return -Number.MAX_SAFE_INTEGER;
  return Number(b);
}

export function isFloatType(dt: number): boolean {
  return dt === DT.FLOAT || dt === DT.DOUBLE || dt === DT.FLOAT16 || dt === DT.BFLOAT16;
}

export function valueInfo(name: string, elemType: number, dims: (number | string)[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Static dims of a graph input/output (undefined entries for symbolic dims). */
export function valueInfoDims(vi: ValueInfoProto): (number | undefined)[] {
  const dims = vi.type?.tensorType?.shape?.dim ?? [];
  return dims.map((d) => (d.dimValue !== undefined && d.dimValue !== null && toNum(d.dimValue as IntLike) > 0 ? toNum(d.dimValue as IntLike) : undefined));
}
