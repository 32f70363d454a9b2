/**
 * The region of interest of a stream: a set of 16×16 macroblocks on the source's grid (the
 * probe's grid). Macroblocks outside it are encoded `roi` QP steps coarser (the `roi` knob).
 * Pure: masks, their wire form, and the rectangles an encoder is given.
 */
import type { Box, Detection } from '../models/types.js';
import { MB, macroblockGrid, type MacroblockGrid } from './macroblocks.js';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Macroblocks any box touches once grown by `pad` pixels on every side (objects move between
 * the segment that found them and the one encoded with the mask).
 */
export function roiMaskFromBoxes(boxes: readonly Box[], width: number, height: number, pad: number): Uint8Array {
  const g = macroblockGrid(width, height);
  const mask = new Uint8Array(g.cols * g.rows);
  for (const [x1, y1, x2, y2] of boxes) {
    const c0 = Math.max(0, Math.floor((x1 - pad) / MB));
    const r0 = Math.max(0, Math.floor((y1 - pad) / MB));
    const c1 = Math.min(g.cols - 1, Math.floor((Math.min(x2 + pad, width) - 1e-6) / MB));
    const r1 = Math.min(g.rows - 1, Math.floor((Math.min(y2 + pad, height) - 1e-6) / MB));
    for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) mask[r * g.cols + c] = 1;
  }
  return mask;
}

/** Wire form: the mask as a bitset in base64 (a 1280×720 source: 3600 macroblocks, 600 characters). */
export function encodeRoiMask(mask: Uint8Array): string {
  const bytes = new Uint8Array(Math.ceil(mask.length / 8));
  for (let i = 0; i < mask.length; i++) if (mask[i]) bytes[i >> 3] |= 1 << (i & 7);
  return Buffer.from(bytes).toString('base64');
}

export function decodeRoiMask(text: string, cells: number): Uint8Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== Math.ceil(cells / 8)) {
    throw new Error(`region-of-interest mask: expected ${Math.ceil(cells / 8)} bytes for ${cells} macroblocks, got ${bytes.length}`);
  }
  const mask = new Uint8Array(cells);
  for (let i = 0; i < cells; i++) mask[i] = (bytes[i >> 3] >> (i & 7)) & 1;
  return mask;
}

/**
 * The mask as few rectangles on an encode of `encWidth`×`encHeight` (the source scaled by the
 * resolution knob): runs of macroblocks per row, stacked while the next row has the same run,
 * snapped outward to the encode's macroblocks so no part of the region is left out.
 */
export function roiRects(mask: Uint8Array, sourceWidth: number, sourceHeight: number, encWidth: number, encHeight: number): Rect[] {
  const g = macroblockGrid(sourceWidth, sourceHeight);
  if (mask.length !== g.cols * g.rows) throw new Error(`region-of-interest mask has ${mask.length} macroblocks, expected ${g.cols * g.rows} for ${sourceWidth}x${sourceHeight}`);
  const open = new Map<string, { c0: number; c1: number; r0: number; r1: number }>();
  const done: { c0: number; c1: number; r0: number; r1: number }[] = [];
  for (let r = 0; r < g.rows; r++) {
    const runs: [number, number][] = [];
    for (let c = 0; c < g.cols; c++) {
      if (!mask[r * g.cols + c]) continue;
      const start = c;
      while (c + 1 < g.cols && mask[r * g.cols + c + 1]) c++;
      runs.push([start, c]);
    }
    const keys = new Set(runs.map(([a, b]) => `${a}:${b}`));
    for (const [key, rect] of open) {
      if (keys.has(key)) continue;
      done.push(rect);
      open.delete(key);
    }
    for (const [a, b] of runs) {
      const rect = open.get(`${a}:${b}`);
      if (rect) rect.r1 = r;
      else open.set(`${a}:${b}`, { c0: a, c1: b, r0: r, r1: r });
    }
  }
  done.push(...open.values());
  const sx = encWidth / sourceWidth;
  const sy = encHeight / sourceHeight;
  const snapDown = (v: number) => Math.floor(v / MB) * MB;
  const snapUp = (v: number, max: number) => Math.min(max, Math.ceil(v / MB) * MB);
  return done.map(({ c0, c1, r0, r1 }) => {
    const x = snapDown(c0 * MB * sx);
    const y = snapDown(r0 * MB * sy);
    const x2 = snapUp(Math.min(sourceWidth, (c1 + 1) * MB) * sx, encWidth);
    const y2 = snapUp(Math.min(sourceHeight, (r1 + 1) * MB) * sy, encHeight);
    return { x, y, width: x2 - x, height: y2 - y };
  });
}

/**
 * The fewest macroblocks holding `fraction` of the saliency mass (where the DNN's accuracy
 * proxy looks). Ties at the cut are all kept; no saliency at all gives an empty mask.
 */
export function salientMask(saliency: ArrayLike<number>, fraction: number): Uint8Array {
  const mask = new Uint8Array(saliency.length);
  let total = 0;
  for (let i = 0; i < saliency.length; i++) total += saliency[i];
  if (!(total > 0)) return mask;
  const order = Array.from({ length: saliency.length }, (_, i) => i).sort((a, b) => saliency[b] - saliency[a]);
  let acc = 0;
  let cut = Infinity;
  for (const i of order) {
    if (acc >= fraction * total && saliency[i] < cut) break;
    mask[i] = 1;
    acc += saliency[i];
    cut = saliency[i];
  }
  return mask;
}

/** Grows a mask by `steps` macroblocks in every direction (8-neighbourhood). */
export function dilateMask(mask: Uint8Array, grid: MacroblockGrid, steps: number): Uint8Array {
  let cur = mask;
  for (let s = 0; s < steps; s++) {
    const next = new Uint8Array(cur);
    for (let r = 0; r < grid.rows; r++) {
      for (let c = 0; c < grid.cols; c++) {
        if (!cur[r * grid.cols + c]) continue;
        for (let dr = -1; dr <= 1; dr++) {
          for (let dc = -1; dc <= 1; dc++) {
            const rr = r + dr;
            const cc = c + dc;
            if (rr >= 0 && rr < grid.rows && cc >= 0 && cc < grid.cols) next[rr * grid.cols + cc] = 1;
          }
        }
      }
    }
    cur = next;
  }
  return cur;
}

export function unionMask(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new Error(`masks of ${a.length} and ${b.length} macroblocks cannot be joined`);
  return a.map((v, i) => (v || b[i] ? 1 : 0));
}

/** Pixels the region of interest reaches beyond a box: half a macroblock, for motion between segments. */
const ROI_PAD = 8;
/** Share of the saliency mass the region keeps, and how far (macroblocks) it grows for motion. */
const ROI_SALIENCY_MASS = 0.7;
const ROI_SALIENCY_GROW = 2;

/**
 * The next segments' region of interest: wherever this segment saw objects of interest and,
 * when a gradient was sampled, the macroblocks holding most of the saliency (the context the
 * detector looks at too). Outside it the roi knob coarsens; the probe measures what that costs
 * where the DNN looks, so the region and the knob's gradient agree.
 */
export function regionOfInterest(detections: readonly Detection[][], classes: ReadonlySet<number>, width: number, height: number, saliency?: Float32Array): Uint8Array {
  const boxes = detections.flatMap((ds) => ds.filter((d) => classes.has(d.cls)).map((d) => d.box));
  const fromBoxes = roiMaskFromBoxes(boxes, width, height, ROI_PAD);
  if (!saliency) return fromBoxes;
  return unionMask(fromBoxes, dilateMask(salientMask(saliency, ROI_SALIENCY_MASS), macroblockGrid(width, height), ROI_SALIENCY_GROW));
}
