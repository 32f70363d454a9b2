import type { RawFrame } from '../media/types.js';

/** Bilinear resize of a packed RGB24 frame (half-pixel centres, like ffmpeg's bilinear). */
export function resizeBilinear(frame: RawFrame, width: number, height: number): RawFrame {
  if (frame.width === width && frame.height === height) return frame;
  const src = frame.data;
  const out = new Uint8Array(width * height * 3);
  const sx = frame.width / width;
  const sy = frame.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), frame.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, frame.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), frame.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, frame.width - 1);
      const wx = fx - x0;
      const o = (y * width + x) * 3;
      const a = (y0 * frame.width + x0) * 3;
      const b = (y0 * frame.width + x1) * 3;
      const c = (y1 * frame.width + x0) * 3;
      const d = (y1 * frame.width + x1) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const top = src[a + ch] * (1 - wx) + src[b + ch] * wx;
        const bottom = src[c + ch] * (1 - wx) + src[d + ch] * wx;
        out[o + ch] = Math.round(top * (1 - wy) + bottom * wy);
      }
    }
  }
  return { width, height, data: out };
}

export interface TensorLayout {
  width: number;
  height: number;
  /** Channel order in the tensor. */
  order: 'rgb' | 'bgr';
  /** value = (pixel − mean) · scale, per channel in tensor order. */
  mean: [number, number, number];
  scale: [number, number, number];
  /** Value for the area outside the placed frame, before normalisation (letterbox pad). */
  pad: number;
}

/** Places `frame` at the top-left of a width×height canvas and writes NCHW floats. */
export function toPlanarTensor(frame: RawFrame, layout: TensorLayout): Float32Array {
  const { width, height } = layout;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  const srcIdx = layout.order === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const padValue = (layout.pad - layout.mean[c]) * layout.scale[c];
    if (frame.width < width || frame.height < height) out.fill(padValue, c * plane, (c + 1) * plane);
  }
  const w = Math.min(frame.width, width);
  const h = Math.min(frame.height, height);
  const d = frame.data;
  for (let c = 0; c < 3; c++) {
    const s = srcIdx[c];
    const mean = layout.mean[c];
    const scale = layout.scale[c];
    const base = c * plane;
    for (let y = 0; y < h; y++) {
      let src = y * frame.width * 3 + s;
      let dst = base + y * width;
      for (let x = 0; x < w; x++) {
        out[dst++] = (d[src] - mean) * scale;
        src += 3;
      }
    }
  }
  return out;
}
