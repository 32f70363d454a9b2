/** The bench's "Fleet budgets" section (summary.json `fleets`), as fleet-bench.ts computes it. */

export interface FleetMethodRow {
  /** equal-split | static-oracle | oneadapt | awstream | chameleon | segment-oracle */
  method: string;
  label: string;
  /** Mean over the cameras of each camera's F1; the lowest camera's. */
  meanF1: number;
  worstF1: number;
  /** All bits over the fleet's seconds (the longest camera's), kbit/s. */
  kbps: number;
  /** Extremes of the fleet's total over the 10-s windows from 5 s on, as multiples of the budget. */
  windowMin: number | null;
  windowMax: number | null;
  /** Median seconds until the allocation moves half-way after a scene change (against the per-segment oracle's shares). */
  followS: number | null;
  /** Scene changes found, and how many of them the method followed within 8 s. */
  changes: number;
  followed: number;
  /** Seconds after a camera leaves until the total is back within 10 % of the budget (null: never, or none leaves). */
  rebalanceS: number | null;
  perCamera: { video: string; kbps: number; f1: number; spec?: string }[];
}

export interface FleetBudgetResult {
  /** The budget, kbit/s, and how it was asked for (`600`, `25%`). */
  budgetKbps: number;
  asked: string;
  rows: FleetMethodRow[];
  /** Per second: every method's total kbit/s and OneAdapt's fleet price. */
  timeline: { t: number; priceBw: number | null; totals: Record<string, number> }[];
}

export interface FleetSection {
  /** `N%` budgets are shares of the sum over the cameras of their cheapest fixed configuration reaching this F1. */
  referenceF1: number;
  referenceSumKbps: number;
  videos: { name: string; segments: number; cheapestAtReferenceF1: { spec: string; kbps: number; f1: number } }[];
  budgets: FleetBudgetResult[];
}
