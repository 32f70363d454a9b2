/** A (cost, F1) point: cost is kbit/s or GPU frames/s, F1 the mean against the reference. */
export interface CurvePoint {
  cost: number;
  f1: number;
  label?: string;
}

/**
 * The non-dominated points, cheapest first, F1 strictly rising: no other point has lower cost
 * and at least the same F1.
 */
export function paretoFrontier(points: readonly CurvePoint[]): CurvePoint[] {
  const sorted = [...points].filter((p) => Number.isFinite(p.cost) && Number.isFinite(p.f1)).sort((a, b) => a.cost - b.cost || b.f1 - a.f1);
  const out: CurvePoint[] = [];
  for (const p of sorted) if (out.length === 0 || p.f1 > out[out.length - 1].f1) out.push(p);
  return out;
}

/**
 * The frontier's cost at `f1`, linear between neighbouring frontier points; null outside the
 * F1 range the frontier covers (no extrapolation).
 */
export function costAtF1(frontier: readonly CurvePoint[], f1: number): number | null {
  if (frontier.length === 0) return null;
  const eps = 1e-12;
  if (f1 < frontier[0].f1 - eps || f1 > frontier[frontier.length - 1].f1 + eps) return null;
  for (let i = 0; i < frontier.length; i++) {
    const p = frontier[i];
    if (Math.abs(p.f1 - f1) <= eps) return p.cost;
    const q = frontier[i + 1];
    if (q && f1 > p.f1 && f1 < q.f1) return p.cost + ((f1 - p.f1) / (q.f1 - p.f1)) * (q.cost - p.cost);
  }
  return null;
}

/** cost / (the frontier's cost at the same F1), or null where the frontier does not reach. */
export function costRatioAtEqualF1(cost: number, f1: number, frontier: readonly CurvePoint[]): number | null {
  const other = costAtF1(frontier, f1);
  return other === null || !(other > 0) ? null : cost / other;
}
