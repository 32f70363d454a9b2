/**
 * The price λ of a resource as a dual variable, adjusted online so that a constraint holds:
 * one multiplicative (log-space) dual-ascent step per observation. Multiplicative because the
 * right price spans orders of magnitude across cameras; bounded steps and bounds on λ keep a
 * noisy observation from throwing it far.
 */
export interface PriceConfig {
  /** Step in log λ for a relative error of 1. */
  eta: number;
  minLambda: number;
  maxLambda: number;
  /** Relative errors are clipped to [−maxError, maxError] before the step. */
  maxError: number;
}

export const PRICE_DEFAULTS: PriceConfig = { eta: 0.5, minLambda: 1e-3, maxLambda: 10, maxError: 2 };

/**
 * `error` > 0 means the resource is over-used relative to its constraint (price up), < 0 that
 * the constraint has room (price down). Returns the new log λ.
 */
export function priceStep(logLambda: number, error: number, c: PriceConfig = PRICE_DEFAULTS): number {
  const e = Math.max(-c.maxError, Math.min(c.maxError, error));
  const next = logLambda + c.eta * e;
  return Math.max(Math.log(c.minLambda), Math.min(Math.log(c.maxLambda), next));
}

/**
 * Target mode: the constraint is on accuracy (loss ≤ budget), so the price of bytes rises while
 * the predicted loss has room and falls when it overshoots.
 */
export function targetError(predictedLoss: number, lossBudget: number): number {
  return (lossBudget - predictedLoss) / lossBudget;
}

/** Budget mode: the constraint is on the resource (rate ≤ budget). */
export function budgetError(rate: number, budget: number): number {
  return (rate - budget) / budget;
}
