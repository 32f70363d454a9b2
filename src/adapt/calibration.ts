/**
 * Turns the saliency-weighted distortion `rec` (what AccGrad measures on every probed segment)
 * into F1 lost against the reference (what a user states a target in): loss ≈ c · rec, `rec`
 * counted beyond the reference encode's own distortion (the caller subtracts it), with c
 * estimated per stream from the policy's audits as a ratio of exponentially forgotten sums.
 * The first-order bound behind `rec` ranks knobs well but its scale differs per camera; one
 * audit at the operating point fixes the scale there, which is where the controller needs it.
 */
export interface Calibration {
  /** Σ (1 − F1) over audits, forgotten geometrically. */
  lost: number;
  /** Σ rec over the same audits. */
  rec: number;
  audits: number;
}

/**
 * Before any audit: c = 2, weighted like audits totalling rec 0.05 (one or two audits at the
 * operating points the shared clips settle at), so that a single one-frame audit — F1 1.0 is
 * common on a frame with few objects even where segments lose a tenth — cannot swing it alone.
 */
export const CALIBRATION_PRIOR: Calibration = { lost: 0.1, rec: 0.05, audits: 0 };

/** Per audit, older audits count this much less (the scene and operating point drift). */
export const CALIBRATION_FORGET = 0.7;

/** F1 lost per unit of rec. */
export function lossPerRec(c: Calibration): number {
  return c.rec > 0 ? c.lost / c.rec : CALIBRATION_PRIOR.lost / CALIBRATION_PRIOR.rec;
}

/**
 * One audit: F1 of the audited frame against its reference-quality copy, and rec of the same
 * frame as encoded. An audit of a frame nothing of interest was seen on (rec 0) says nothing
 * about the scale and is skipped.
 */
export function calibrate(c: Calibration, f1: number, rec: number, forget = CALIBRATION_FORGET): Calibration {
  if (!(rec > 0) || !Number.isFinite(f1)) return c;
  return { lost: forget * c.lost + (1 - Math.min(1, Math.max(0, f1))), rec: forget * c.rec + rec, audits: c.audits + 1 };
}
