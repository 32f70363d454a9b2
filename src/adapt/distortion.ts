import { MB, macroblockGrid } from '../knobs/macroblocks.js';
import type { RawFrame } from '../media/types.js';


/**
 * D_mb = Σ over the macroblock's pixels and all frames of Σ_rgb |V − V_ref| (0..255 units),
 * on the SOURCE's 16×16 macroblock grid. Frames may be compared at a smaller analysis size
 * (the size the DNN sees): each analysis pixel then adds to the source macroblock under its
 * centre, weighted by the source pixels it stands for. `variant` may have fewer frames (a lower
 * frame rate): slot i shows the latest variant frame at or before it, as the server would.
 */
export function macroblockDistortion(
  variant: readonly RawFrame[],
  reference: readonly RawFrame[],
  source: { width: number; height: number } = reference[0],
): Float64Array {
  if (reference.length === 0) throw new Error('distortion needs at least one reference frame');
  if (variant.length === 0) throw new Error('distortion needs at least one variant frame');
  const { width, height } = reference[0];
  const grid = macroblockGrid(source.width, source.height);
  const out = new Float64Array(grid.cols * grid.rows);
  const sx = source.width / width;
  const sy = source.height / height;
  // Source macroblock column of each analysis column, and row of each analysis row.
  const colOf = new Int32Array(width);
  for (let x = 0; x < width; x++) colOf[x] = Math.min(grid.cols - 1, Math.floor(((x + 0.5) * sx) / MB));
  const weight = sx * sy;
  for (let i = 0; i < reference.length; i++) {
    const ref = reference[i];
    const v = variant[Math.min(variant.length - 1, Math.floor((i * variant.length) / reference.length))];
    if (v.width !== width || v.height !== height || ref.width !== width || ref.height !== height) {
      throw new Error(`distortion needs frames of one size: reference ${width}x${height}, got ${v.width}x${v.height} and ${ref.width}x${ref.height}`);
    }
    const a = v.data;
    const b = ref.data;
    for (let y = 0; y < height; y++) {
      const rowBase = Math.min(grid.rows - 1, Math.floor(((y + 0.5) * sy) / MB)) * grid.cols;
      let p = y * width * 3;
      for (let x = 0; x < width; x++, p += 3) {
        const d = Math.abs(a[p] - b[p]) + Math.abs(a[p + 1] - b[p + 1]) + Math.abs(a[p + 2] - b[p + 2]);
        out[rowBase + colOf[x]] += d;
      }
    }
  }
  if (weight !== 1) for (let i = 0; i < out.length; i++) out[i] *= weight;
  return out;
}
