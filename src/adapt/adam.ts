/** Adam moments for one scalar parameter. */
export interface AdamMoments {
  m: number;
  v: number;
  t: number;
}

export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export const ZERO_MOMENTS: AdamMoments = { m: 0, v: 0, t: 0 };

/** One Adam step on a gradient to DEscend: returns the change to apply and the new moments. */
export function adamStep(moments: AdamMoments, grad: number, c: AdamConfig): { delta: number; moments: AdamMoments } {
  const t = moments.t + 1;
  const m = c.beta1 * moments.m + (1 - c.beta1) * grad;
  const v = c.beta2 * moments.v + (1 - c.beta2) * grad * grad;
  const mHat = m / (1 - Math.pow(c.beta1, t));
  const vHat = v / (1 - Math.pow(c.beta2, t));
  return { delta: (-c.lr * mHat) / (Math.sqrt(vHat) + c.eps), moments: { m, v, t } };
}
