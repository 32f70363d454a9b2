import type { TopLevelSpec } from 'vega-lite';
import type { Resource } from './specs.js';
import type { Summary } from './summary.js';

const FONT = 'DejaVu Sans';
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
  const x = { field: 'cost', type: 'quantitative' as const, title: COST_TITLE[resource], scale: { zero: false } };
  const y = { field: 'f1', type: 'quantitative' as const, title: 'mean F1 vs reference', scale: { zero: false } };
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

/** Per-segment knobs, kbit/s and F1 of every run on one video, one panel each. */
export function timelinePlot(video: string, series: { label: string; segments: { seq: number; qp: number; resolution: number; fps: number; kbps: number; f1: number }[] }[]): TopLevelSpec {
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
      y: { field, type: 'quantitative' as const, title, scale: { zero: false }, axis: { format: '~g' } },
      color: { field: 'run', type: 'nominal' as const, title: 'run' },
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Per-segment timeline — ${video}`,
    config: { font: FONT, background: 'white', legend: { labelLimit: 320 } },
    data: { values },
    vconcat: [panel('qp', 'QP'), panel('resolution', 'resolution scale'), panel('fps', 'frames/s'), panel('kbps', 'kbit/s'), panel('f1', 'F1')],
  } as TopLevelSpec;
}
