// DNNGrad → per-macroblock saliency in the original frame's coordinates.
import { MB, macroblockGrid } from '../knobs/macroblocks.js';

/** Model pixel = frame pixel · scale + pad (letterbox/resize applied before inference). */
export interface FrameTransform { scaleX: number; scaleY: number; padX: number; padY: number }

export interface SaliencyMap {
  /** The frame's macroblock grid (knobs/macroblocks), row-major. */
  cols: number;
  rows: number;
  data: Float32Array;
}

/**
 * S_mb = mean over the macroblock's frame pixels of Σ_c |dX| at the corresponding model pixel,
 * times scaleX·scaleY: the gradient w.r.t. a frame pixel when one model pixel is fed by
 * 1/(scaleX·scaleY) frame pixels (area resize). Frame pixels falling outside the model input count as 0.
 */
export function saliencyFromGradient(dx: Float32Array, dims: readonly number[], frameWidth: number, frameHeight: number, t: FrameTransform): SaliencyMap {
  const [, C, H, W] = dims;
  if (dx.length !== C * H * W) throw new Error(`gradient has ${dx.length} values, dims say ${C * H * W}`);
  const mag = new Float32Array(H * W);
  for (let c = 0; c < C; c++) for (let i = 0; i < H * W; i++) mag[i] += Math.abs(dx[c * H * W + i]);
  const { cols, rows } = macroblockGrid(frameWidth, frameHeight);
  const sums = new Float64Array(cols * rows);
  const counts = new Float64Array(cols * rows);
  const area = t.scaleX * t.scaleY;
  const mx = new Int32Array(frameWidth);
  for (let fx = 0; fx < frameWidth; fx++) mx[fx] = Math.floor((fx + 0.5) * t.scaleX + t.padX);
  for (let fy = 0; fy < frameHeight; fy++) {
    const my = Math.floor((fy + 0.5) * t.scaleY + t.padY);
    const rowOk = my >= 0 && my < H;
    const by = Math.floor(fy / MB);
    for (let fx = 0; fx < frameWidth; fx++) {
      const b = by * cols + Math.floor(fx / MB);
      counts[b]++;
      const x = mx[fx];
      if (rowOk && x >= 0 && x < W) sums[b] += mag[my * W + x] * area;
    }
  }
  const data = new Float32Array(cols * rows);
  for (let i = 0; i < data.length; i++) data[i] = counts[i] ? sums[i] / counts[i] : 0;
  return { cols, rows, data };
}

/** The transform of a letterbox that keeps aspect ratio and pads bottom/right (or centred). */
export function letterboxTransform(frameWidth: number, frameHeight: number, modelWidth: number, modelHeight: number, centred = false): FrameTransform {
  const r = Math.min(modelWidth / frameWidth, modelHeight / frameHeight);
  const padX = centred ? (modelWidth - frameWidth * r) / 2 : 0;
  const padY = centred ? (modelHeight - frameHeight * r) / 2 : 0;
  return { scaleX: r, scaleY: r, padX, padY };
}

/** The transform of a plain (aspect-changing) resize. */
export function resizeTransform(frameWidth: number, frameHeight: number, modelWidth: number, modelHeight: number): FrameTransform {
  return { scaleX: modelWidth / frameWidth, scaleY: modelHeight / frameHeight, padX: 0, padY: 0 };
}
