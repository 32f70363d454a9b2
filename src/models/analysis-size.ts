import type { ModelSpec } from './types.js';

/**
 * The size at which the ingest compares encodes: the frame as the DNN sees it (its input
 * size, aspect kept), never larger than the source. Detail the DNN cannot see does not count.
 */
export function analysisSize(spec: ModelSpec, sourceWidth: number, sourceHeight: number): { width: number; height: number } {
  const fit = spec.fitSize(sourceWidth, sourceHeight);
  const scale = Math.min(1, Math.max(fit.width / sourceWidth, fit.height / sourceHeight));
  if (scale >= 1) return { width: sourceWidth, height: sourceHeight };
  const even = (v: number) => Math.max(2, 2 * Math.round(v / 2));
  return { width: even(sourceWidth * scale), height: even(sourceHeight * scale) };
}
