import type { Summary, SummaryRow } from './summary.js';

const num = (v: number | null, digits: number) => (v === null || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const ratio = (v: number | null) => (v === null ? '–' : `${v.toFixed(2)}×`);
const lambda = (v: number | null) => (v === null ? '–' : String(v));

function table(rows: readonly SummaryRow[], resource: 'bw' | 'gpu'): string {
  const vs = resource === 'bw' ? 'bytes' : 'frames';
  const head = ['policy', 'λ', 'mean kbit/s', 'mean F1', 'mAP@0.5', 'GPU frames/s of video', 'mean adaptation delay (s)', 'overhead ms/s', `${vs} vs best fixed`, `vs AWStream`, `vs Chameleon`, `vs oracle`, `vs lag-1 oracle`];
  const lines = rows.map((r) => [
    r.policy,
    lambda(r.lambda),
    num(r.kbps, 1),
    num(r.f1, 3),
    num(r.map, 3),
    r.profileFramesPerS > 0 ? `${num(r.framesPerS, 1)} (+${num(r.profileFramesPerS, 1)} profiling)` : num(r.framesPerS, 1),
    num(r.adaptationDelayS, 1),
    num(r.overheadMsPerS, 0),
    ratio(resource === 'bw' ? r.bytesVsBestFixedAtEqualF1 : r.framesVsBestFixedAtEqualF1),
    ratio(resource === 'bw' ? r.bytesVsAwstreamAtEqualF1 : r.framesVsAwstreamAtEqualF1),
    ratio(resource === 'bw' ? r.bytesVsChameleonAtEqualF1 : r.framesVsChameleonAtEqualF1),
    ratio(resource === 'bw' ? r.bytesVsOracleAtEqualF1 : r.framesVsOracleAtEqualF1),
    ratio(resource === 'bw' ? r.bytesVsLag1OracleAtEqualF1 : r.framesVsLag1OracleAtEqualF1),
  ]);
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...lines.map((l) => `| ${l.join(' | ')} |`)].join('\n');
}

/**
 * summary.md: the bandwidth table (adaptive runs priced on bytes, named fixed policies and the
 * fixed grid's frontier) and the GPU table (runs priced on frames inferred).
 */
export function summaryMarkdown(s: Summary, o: { showGrid: boolean; plots: string[] }): string {
  const isFixed = (r: SummaryRow) => r.resource === null;
  // The grid's frontier stands for the grid (all of it is in summary.json).
  const fixedShown = s.rows.filter((r) => isFixed(r) && (!r.grid || (o.showGrid && r.onFixedFrontier)));
  const bw = [...fixedShown, ...s.rows.filter((r) => r.resource === 'bw')];
  const gpu = s.rows.filter((r) => r.resource === 'gpu');
  const videos = s.videos.map((v) => `${v.name} (${v.segments} segments, reference ${v.referenceKbps.toFixed(0)} kbit/s)`).join(', ');
  const out = [
    '# OneAdapt bench',
    '',
    `Videos: ${videos}. Fixed grid: ${s.gridSize} configurations on every segment.`,
    'Rows pool all videos (one fixed configuration serves every camera). "vs X" = this row\'s cost divided by',
    'curve X\'s cost at the same F1 (– where X does not reach that F1). F1 and mAP@0.5 are against the',
    'same model on the reference encode (QP 20, full resolution, 10 fps).',
    '',
    '## Bandwidth as the cost',
    '',
    table(bw, 'bw'),
  ];
  if (gpu.length > 0) out.push('', '## GPU as the cost (frames inferred per second of video)', '', table([...fixedShown, ...gpu], 'gpu'));
  out.push('', '## Per video (against each video\'s own best fixed configuration)', '');
  out.push('| policy | λ | resource | ' + s.videos.map((v) => `${v.name} F1 | ${v.name} vs best fixed`).join(' | ') + ' |');
  out.push(`|${['policy', 'λ', 'resource', ...s.videos.flatMap(() => ['a', 'b'])].map(() => '---').join('|')}|`);
  for (const r of [...bw, ...gpu]) {
    const cells = r.perVideo.map((v) => `${num(v.f1, 3)} | ${ratio(r.resource === 'gpu' ? v.framesVsBestFixedAtEqualF1 : v.bytesVsBestFixedAtEqualF1)}`);
    out.push(`| ${r.policy} | ${lambda(r.lambda)} | ${r.resource ?? '–'} | ${cells.join(' | ')} |`);
  }
  if (o.plots.length > 0) out.push('', '## Plots', '', ...o.plots.map((p) => `![${p}](${p})`));
  return out.join('\n') + '\n';
}

