/**
 * The 16×16 macroblock grid of a source frame: the unit x264 quantises, the probe measures
 * distortion on, the saliency is summed over and the region of interest is made of. Every
 * grid in the system is this one, on the SOURCE's size.
 */
export const MB = 16;

export interface MacroblockGrid {
  cols: number;
  rows: number;
}

export function macroblockGrid(width: number, height: number): MacroblockGrid {
  return { cols: Math.ceil(width / MB), rows: Math.ceil(height / MB) };
}

/** Macroblocks in a frame of this size. */
export function macroblockCount(width: number, height: number): number {
  const g = macroblockGrid(width, height);
  return g.cols * g.rows;
}
