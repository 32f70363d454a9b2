// Resize gradient: Resize is linear in X, separable over H and W; its adjoint is
// dX = A_hᵀ · dY · A_w with the interpolation matrices computed here from ONNX's rules.
import { attrString, floatTensor } from '../onnx-io.js';
import type { Rule } from './types.js';

function sourceCoord(mode: string, o: number, scale: number, inLen: number, outLen: number): number {
  switch (mode) {
    case 'half_pixel': return (o + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel': return outLen > 1 ? (o + 0.5) / scale - 0.5 : 0;
    case 'align_corners': return outLen === 1 ? 0 : (o * (inLen - 1)) / (outLen - 1);
    case 'asymmetric': return o / scale;
    case 'tf_half_pixel_for_nn': return (o + 0.5) / scale;
    default: throw new Error(`Resize coordinate_transformation_mode ${mode} is not supported`);
  }
}

function nearestIndex(mode: string, v: number): number {
  switch (mode) {
    case 'floor': return Math.floor(v);
    case 'ceil': return Math.ceil(v);
    case 'round_prefer_ceil': return Math.round(v);
    default: return v - Math.floor(v) === 0.5 ? Math.floor(v) : Math.round(v);
  }
}

/** Interpolation matrix [outLen, inLen]. */
export function resizeMatrix(mode: string, coord: string, nearest: string, inLen: number, outLen: number, scale: number): Float32Array {
  const m = new Float32Array(outLen * inLen);
  for (let o = 0; o < outLen; o++) {
    const x = sourceCoord(coord, o, scale, inLen, outLen);
    if (mode === 'nearest') {
      const i = Math.max(0, Math.min(inLen - 1, nearestIndex(nearest, x)));
      m[o * inLen + i] += 1;
    } else {
      const xc = Math.max(0, Math.min(inLen - 1, x));
      const i0 = Math.floor(xc), i1 = Math.min(i0 + 1, inLen - 1);
      const f = xc - i0;
      m[o * inLen + i0] += 1 - f;
      m[o * inLen + i1] += f;
    }
  }
  return m;
}

const resize: Rule = (ctx, n, [g]) => {
  const [x, , scalesIn, sizesIn] = n.input ?? [];
  const xs = ctx.shape(x), ys = ctx.shape((n.output ?? [])[0]);
  const mode = attrString(n, 'mode', 'nearest');
  const coord = attrString(n, 'coordinate_transformation_mode', 'half_pixel');
  const nearest = attrString(n, 'nearest_mode', 'round_prefer_floor');
  if (mode !== 'nearest' && mode !== 'linear') return ctx.fail(n, `Resize mode ${mode} is not supported`);
  if (xs.length !== 4 || xs[0] !== ys[0] || xs[1] !== ys[1]) return ctx.fail(n, 'Resize gradient supports 4-D inputs resized over H and W only');
  const sc = scalesIn ? ctx.constOf(scalesIn) : undefined;
  const sizes = sizesIn ? ctx.constOf(sizesIn) : undefined;
  const scale = (i: number): number => (sc && sc.length ? sc[i] : (sizes as number[])[i] / xs[i]);
  const [N, C, H, W] = xs;
  const [, , OH, OW] = ys;
  const B = ctx.b;
  const sh = scale(2), sw = scale(3);
  if (mode === 'nearest' && coord === 'asymmetric' && nearest === 'floor' && Number.isInteger(sh) && Number.isInteger(sw) && OH === H * sh && OW === W * sw) {
    // Integer nearest upsampling: the adjoint is a block sum.
    const r = B.op('Reshape', [g!, B.constI64([N, C, H, sh, W, sw])]);
    return [B.op('ReduceSum', [r, B.constI64([3, 5])], { keepdims: 0 })];
  }
  const ah = resizeMatrix(mode, coord, nearest, H, OH, sh);
  const aw = resizeMatrix(mode, coord, nearest, W, OW, sw);
  const ahT = new Float32Array(H * OH);
  for (let o = 0; o < OH; o++) for (let i = 0; i < H; i++) ahT[i * OH + o] = ah[o * H + i];
  const t = B.op('MatMul', [g!, B.addInit(floatTensor('', [OW, W], aw))]);
  return [B.op('MatMul', [B.addInit(floatTensor('', [H, OH], ahT)), t])];
};

export const resizeRules: Record<string, Rule> = { Resize: resize };
