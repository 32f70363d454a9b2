import type { RoiEncode } from './types.js';

/** One scaler for every resize in the system, so frames compare across encode and decode paths. */
export const SCALE_FLAGS = 'bicubic';

export function scaleFilter(width: number, height: number): string {
  return `scale=${width}:${height}:flags=${SCALE_FLAGS}`;
}

export function fpsFilter(fps: number): string {
  if (!(fps > 0) || !Number.isFinite(fps)) throw new Error(`fps must be a positive number, got ${fps}`);
  return `fps=${fps}`;
}

function evenAtLeastTwo(value: number): number {
  return Math.max(2, 2 * Math.round(value / 2));
}

/**
 * Target size of a resize: both given → as given; one given → the other follows the source's
 * aspect ratio (rounded to even, as 4:2:0 encoders need); none → the source size.
 */
export function targetSize(
  source: { width: number; height: number },
  want: { width?: number; height?: number },
): { width: number; height: number } {
  for (const [name, value] of [['width', want.width], ['height', want.height]] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value <= 0)) {
      throw new Error(`${name} must be a positive integer, got ${value}`);
    }
  }
  if (want.width && want.height) return { width: want.width, height: want.height };
  if (want.width) return { width: want.width, height: evenAtLeastTwo((want.width * source.height) / source.width) };
  if (want.height) return { width: evenAtLeastTwo((want.height * source.width) / source.height), height: want.height };
  return { width: source.width, height: source.height };
}

/** Frames an fps conversion keeps from `inputFrames` captured at `inputFps` (at least one). */
export function resampledFrameCount(inputFrames: number, inputFps: number, fps: number): number {
  return Math.max(1, Math.round((inputFrames * fps) / inputFps));
}

/** Whether an encode varies its QP by region (see regionFilters, segmentCodecOptions). */
export function hasRegions(roi: RoiEncode | undefined): roi is RoiEncode {
  return roi !== undefined && roi.offset > 0;
}

/**
 * `addroi` filters for a region-of-interest encode. The first region listed wins where regions
 * overlap: the regions of interest at offset 0, then the whole frame at +offset (ffmpeg's x264
 * wrapper multiplies a region's qoffset by the QP range, 51).
 */
export function regionFilters(roi: RoiEncode): string[] {
  if (!Number.isInteger(roi.offset) || roi.offset < 0 || roi.offset > 51) throw new Error(`roi offset must be an integer QP offset in 0..51, got ${roi.offset}`);
  return [
    ...roi.rects.filter((r) => r.width > 0 && r.height > 0).map((r) => `addroi=${r.x}:${r.y}:${r.width}:${r.height}:0`),
    `addroi=0:0:iw:ih:${roi.offset}/51`,
  ];
}

/**
 * x264 options shared by every encode: one GOP per segment (each decodes on its own, no
 * scene-cut keyframes inside), and no SEI units — x264 writes its settings as a ~640-byte SEI
 * comment into every segment, a large share of a cheap 1-s segment that no decoder needs.
 * x264 ignores per-region offsets at a constant QP, so a region-of-interest encode uses
 * constant quality at the same QP with frame-level rate control neutralised (qcomp=1: every
 * frame at the QP, no macroblock tree) and adaptive quantisation all but off: the regions are
 * then the only spatial variation.
 */
export function segmentCodecOptions(qp: number, frames: number, regions = false): string[] {
  const rate = regions ? ['-crf', String(qp), '-x264-params', 'aq-mode=1:aq-strength=0.01:mbtree=0:qcomp=1'] : ['-qp', String(qp)];
  return [
    '-c:v', 'libx264', '-preset', 'veryfast', ...rate, '-pix_fmt', 'yuv420p',
    '-g', String(frames), '-keyint_min', String(frames), '-sc_threshold', '0',
    '-bsf:v', 'filter_units=remove_types=6',
  ];
}

/** The filter chain of one encode: frame rate, size, then the regions (on the encoded size). */
export function encodeFilterChain(s: { fps: number; width: number; height: number; roi?: RoiEncode }): string {
  return [fpsFilter(s.fps), scaleFilter(s.width, s.height), ...(hasRegions(s.roi) ? regionFilters(s.roi) : [])].join(',');
}
