/**
 * How well AccGrad's per-knob prediction matches what a one-step move really does: for every
 * probed segment and knob, the F1 the cheaper level was predicted to lose (calibrated rec
 * difference) against the F1 it lost when the bench encoded and inferred it.
 */
export interface CalibrationPair {
  predictedLoss: number;
  realisedLoss: number;
  /** Predicted and realised net gain of the move at the price the policy had (when it has one). */
  predictedGain?: number;
  realisedGain?: number;
}

export interface CalibrationScore {
  pairs: number;
  /** Spearman rank correlation of predicted and realised F1 loss. */
  rankCorrelation: number | null;
  /** Mean |predicted − realised| F1 loss. */
  meanAbsError: number | null;
  /** Of the moves with a price: the fraction whose go-cheaper/stay decision hindsight agrees with. */
  signRight: number | null;
}

/** Average ranks (ties share their mean rank). */
function ranks(xs: readonly number[]): number[] {
  const order = xs.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const out = new Array<number>(xs.length);
  for (let k = 0; k < order.length; ) {
    let e = k;
    while (e + 1 < order.length && order[e + 1].v === order[k].v) e++;
    for (let j = k; j <= e; j++) out[order[j].i] = (k + e) / 2;
    k = e + 1;
  }
  return out;
}

export function spearman(a: readonly number[], b: readonly number[]): number | null {
  if (a.length !== b.length || a.length < 3) return null;
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (ra.length - 1) / 2;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i] - mean) * (rb[i] - mean);
    da += (ra[i] - mean) ** 2;
    db += (rb[i] - mean) ** 2;
  }
  return da > 0 && db > 0 ? num / Math.sqrt(da * db) : null;
}

export function calibrationScore(pairs: readonly CalibrationPair[]): CalibrationScore {
  const priced = pairs.filter((p) => p.predictedGain !== undefined && p.realisedGain !== undefined && p.realisedGain !== 0);
  return {
    pairs: pairs.length,
    rankCorrelation: spearman(pairs.map((p) => p.predictedLoss), pairs.map((p) => p.realisedLoss)),
    meanAbsError: pairs.length > 0 ? pairs.reduce((s, p) => s + Math.abs(p.predictedLoss - p.realisedLoss), 0) / pairs.length : null,
    signRight: priced.length > 0 ? priced.filter((p) => Math.sign(p.predictedGain!) === Math.sign(p.realisedGain!)).length / priced.length : null,
  };
}
