import type { Detection } from './types.js';

/** Steepness of the proxy's sigmoid around the 0.5 decision threshold (docs/method.md). */
export const PROXY_SHARPNESS = 20;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** A(X) = Σ σ(20·(score − 0.5)) over the detections of the classes of interest. */
export function proxyValue(detections: Detection[], classes: ReadonlySet<number>): number {
  let a = 0;
  for (const d of detections) if (classes.has(d.cls)) a += sigmoid(PROXY_SHARPNESS * (d.score - 0.5));
  return a;
}

/** dA/dscore for one detection. */
export function proxySlope(score: number): number {
  const s = sigmoid(PROXY_SHARPNESS * (score - 0.5));
  return PROXY_SHARPNESS * s * (1 - s);
}

export function ofInterest(detections: Detection[], classes: ReadonlySet<number>): Detection[] {
  return detections.filter((d) => classes.has(d.cls));
}
