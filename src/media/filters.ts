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

/**
 * x264 options shared by every encode: one GOP per segment (each decodes on its own, no
 * scene-cut keyframes inside), and no SEI units — x264 writes its settings as a ~640-byte SEI
 * comment into every segment, a large share of a cheap 1-s segment that no decoder needs.
 */
export function segmentCodecOptions(qp: number, frames: number): string[] {
  return [
    '-c:v', 'libx264', '-preset', 'veryfast', '-qp', String(qp), '-pix_fmt', 'yuv420p',
    '-g', String(frames), '-keyint_min', String(frames), '-sc_threshold', '0',
    '-bsf:v', 'filter_units=remove_types=6',
  ];
}
