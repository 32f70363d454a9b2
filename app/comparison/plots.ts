import type { TopLevelSpec } from 'vega-lite';
import type { Resource } from './specs.js';
import type { Summary } from './summary.js';

const FONT = 'DejaVu Sans';

/**
 * Tick labels as plain numbers: 400, 1.5k, 2.5M, 0.95. Vega's own formats pick their precision
 * from the tick step, so `~g` labels 400 on a 200-step axis as 4e+2.
 */
export const PLAIN_TICK_LABEL =
  "abs(datum.value) >= 1e6 ? format(datum.value / 1e6, '~r') + 'M' : abs(datum.value) >= 1e3 ? format(datum.value / 1e3, '~r') + 'k' : format(datum.value, '~r')";
const plainAxis = { labelExpr: PLAIN_TICK_LABEL };
const COST_TITLE: Record<Resource, string> = { bw: 'mean kbit/s (all videos)', gpu: 'GPU frames inferred per second of video' };

/**
 * F1 against cost: every fixed configuration (grey), the fixed frontier, the per-segment oracle
 * and lag-1 oracle curves (dashed), and each adaptive policy's λ-curve with its points.
 */
export function paretoPlot(s: Summary, resource: Resource): TopLevelSpec {
  const c = s.curves[resource];
  const curve = (series: string, pts: { cost: number; f1: number }[]) => pts.map((p) => ({ series, cost: p.cost, f1: p.f1 }));
  const lines = [...curve('fixed frontier', c.fixedFrontier), ...curve('oracle (per segment)', c.oracle), ...curve('lag-1 oracle', c.lag1Oracle)];
  const cost = (r: Summary['rows'][number]) => (resource === 'bw' ? r.kbps : r.framesPerS);
  const policies = s.rows
    .filter((r) => r.resource === resource || (r.resource === null && !r.grid))
    .map((r) => ({ series: r.policy, cost: cost(r), f1: r.f1, lambda: r.lambda === null ? '' : `λ=${r.lambda}` }))
    .sort((a, b) => a.cost - b.cost);
  const x = { field: 'cost', type: 'quantitative' as const, title: COST_TITLE[resource], scale: { zero: false }, axis: plainAxis };
  const y = { field: 'f1', type: 'quantitative' as const, title: 'mean F1 vs reference', scale: { zero: false }, axis: plainAxis };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `F1 vs ${resource === 'bw' ? 'bandwidth' : 'GPU frames'} — ${s.videos.map((v) => v.name).join(', ')}`,
    width: 560,
    height: 380,
    config: { font: FONT, background: 'white', legend: { labelLimit: 320 } },
    layer: [
      { data: { values: curve('fixed configuration', c.fixed) }, mark: { type: 'circle', size: 30, color: '#bbbbbb' }, encoding: { x, y } },
      {
        data: { values: lines },
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          x,
          y,
          order: { field: 'cost', type: 'quantitative' },
          strokeDash: { field: 'series', type: 'nominal', title: 'limits', scale: { domain: ['fixed frontier', 'oracle (per segment)', 'lag-1 oracle'], range: [[1, 0], [6, 3], [2, 2]] } },
          color: { value: '#555555' },
        },
      },
      {
        data: { values: policies },
        mark: { type: 'line', point: { size: 70, filled: true }, strokeWidth: 2 },
        encoding: { x, y, order: { field: 'cost', type: 'quantitative' }, color: { field: 'series', type: 'nominal', title: 'policy' }, tooltip: [{ field: 'lambda' }] },
      },
    ],
    resolve: { legend: { strokeDash: 'independent', color: 'independent' } },
  } as TopLevelSpec;
}

/** One segment of a run on the timeline: its knobs (`roi`: the QP offset outside the region of interest), kbit/s and F1. */
export interface TimelineSegment {
  seq: number;
  qp: number;
  resolution: number;
  fps: number;
  roi: number;
  kbps: number;
  f1: number;
}

/** The timeline's panels, top to bottom: every knob, then kbit/s and F1. */
export const TIMELINE_PANELS: readonly { field: keyof Omit<TimelineSegment, 'seq'>; title: string }[] = [
  { field: 'qp', title: 'QP' },
  { field: 'resolution', title: 'resolution scale' },
  { field: 'fps', title: 'frames/s' },
  { field: 'roi', title: 'roi QP offset' },
  { field: 'kbps', title: 'kbit/s' },
  { field: 'f1', title: 'F1' },
];

/** Per-segment knobs, kbit/s and F1 of every run on one video, one panel each. */
export function timelinePlot(video: string, series: { label: string; segments: TimelineSegment[] }[]): TopLevelSpec {
  // Step lines: each segment holds its value until the next; a closing point ends the last step.
  const values = series.flatMap((r) => {
    const last = r.segments[r.segments.length - 1];
    return [...r.segments, ...(last ? [{ ...last, seq: last.seq + 1 }] : [])].map((seg) => ({ run: r.label, ...seg }));
  });
  const panel = (field: string, title: string) => ({
    width: 620,
    height: 90,
    mark: { type: 'line' as const, interpolate: 'step-after' as const, strokeWidth: 1.5 },
    encoding: {
      x: { field: 'seq', type: 'quantitative' as const, title: 'time (s, segment start)', axis: { tickMinStep: 1, format: 'd' } },
      y: { field, type: 'quantitative' as const, title, scale: { zero: false }, axis: field === 'f1' || field === 'resolution' ? plainAxis : { ...plainAxis, tickMinStep: 1 } },
      color: { field: 'run', type: 'nominal' as const, title: 'run' },
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Per-segment timeline — ${video}`,
    config: { font: FONT, background: 'white', legend: { labelLimit: 320 } },
    data: { values },
    vconcat: TIMELINE_PANELS.map((p) => panel(p.field, p.title)),
  } as TopLevelSpec;
}
