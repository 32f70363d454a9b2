import type { CurvePoint } from './pareto.js';

/** One configuration's measured outcome on one segment. */
export interface SegmentOption {
  key: string;
  bytes: number;
  frames: number;
  f1: number;
}

/** A video's segments, each with every grid configuration measured on it. */
export interface OracleVideo {
  durationS: number;
  segments: { slots: number; options: SegmentOption[] }[];
}

export type CostKind = 'bytes' | 'frames';

/** Prices swept: 0 and a log range wide enough to go from the best F1 to the cheapest option. */
export const DEFAULT_PRICES: number[] = [0, ...Array.from({ length: 161 }, (_, i) => Math.pow(10, -4 + i * 0.04))];

function totalOf(videos: readonly OracleVideo[], pick: (v: number, s: number) => SegmentOption, kind: CostKind): CurvePoint {
  let cost = 0;
  let f1 = 0;
  let slots = 0;
  let seconds = 0;
  videos.forEach((v, vi) => {
    seconds += v.durationS;
    v.segments.forEach((seg, si) => {
      const o = pick(vi, si);
      cost += kind === 'bytes' ? o.bytes : o.frames;
      f1 += o.f1 * seg.slots;
      slots += seg.slots;
    });
  });
  // Rates, like the bench's rows: kbit/s or GPU frames/s over all the videos' seconds.
  return { cost: kind === 'bytes' ? (cost * 8) / 1000 / seconds : cost / seconds, f1: slots > 0 ? f1 / slots : 1 };
}

/** For one price, each segment's choice minimising −F1·slots + price·cost/scale. */
function choices(videos: readonly OracleVideo[], kind: CostKind, price: number, scale: number): SegmentOption[][] {
  return videos.map((v) =>
    v.segments.map((seg) => {
      let best = seg.options[0];
      let bestScore = Infinity;
      for (const o of seg.options) {
        const s = -o.f1 * seg.slots + (price * (kind === 'bytes' ? o.bytes : o.frames)) / scale;
        if (s < bestScore - 1e-12) {
          best = o;
          bestScore = s;
        }
      }
      return best;
    }),
  );
}

/** Mean cost of the first option (the reference) over all segments: makes prices unit-free. */
function costScale(videos: readonly OracleVideo[], kind: CostKind): number {
  const all = videos.flatMap((v) => v.segments.map((s) => (kind === 'bytes' ? s.options[0].bytes : s.options[0].frames)));
  return Math.max(1e-9, all.reduce((a, b) => a + b, 0) / Math.max(1, all.length));
}

/**
 * Per-segment oracle: each segment takes its own best configuration in hindsight (a
 * Lagrangian sweep over one price shared by all segments and videos, so each point is optimal
 * for its total cost). Options must list the reference first.
 */
export function oracleCurve(videos: readonly OracleVideo[], kind: CostKind, prices: readonly number[] = DEFAULT_PRICES): CurvePoint[] {
  const scale = costScale(videos, kind);
  return prices.map((price) => {
    const c = choices(videos, kind, price, scale);
    return { ...totalOf(videos, (v, s) => c[v][s], kind), label: `price ${price.toPrecision(3)}` };
  });
}

/**
 * Lag-1 oracle: each segment uses the configuration that was best for the previous segment
 * (as a policy acting on last segment's perfect knowledge would); the first segment of each
 * video uses the reference, where every adaptive policy starts.
 */
export function lag1OracleCurve(videos: readonly OracleVideo[], kind: CostKind, prices: readonly number[] = DEFAULT_PRICES): CurvePoint[] {
  const scale = costScale(videos, kind);
  return prices.map((price) => {
    const c = choices(videos, kind, price, scale);
    const pick = (v: number, s: number): SegmentOption => {
      if (s === 0) return videos[v].segments[0].options[0];
      const key = c[v][s - 1].key;
      return videos[v].segments[s].options.find((o) => o.key === key) ?? videos[v].segments[s].options[0];
    };
    return { ...totalOf(videos, pick, kind), label: `price ${price.toPrecision(3)}` };
  });
}
