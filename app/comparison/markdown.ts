import type { Summary, SummaryRow } from './summary.js';
import { fleetMarkdown } from './fleet-markdown.js';

const num = (v: number | null, digits: number) => (v === null || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const ratio = (v: number | null) => (v === null ? '–' : `${v.toFixed(2)}×`);
const lambda = (v: number | null) => (v === null ? '–' : String(v));

function table(rows: readonly SummaryRow[], resource: 'bw' | 'gpu'): string {
  const vs = resource === 'bw' ? 'bytes' : 'frames';
  const head = ['policy', 'λ', 'mean kbit/s', 'mean F1', 'mAP@0.5', 'GPU frames/s of video', 'mean adaptation delay (s)', 'overhead ms/s', `${vs} vs best fixed`, `vs AWStream`, `vs Chameleon`, `vs oracle`, `vs lag-1 oracle`];
  const lines = rows.map((r) => [
    // A target or budget run has no λ of its own: its spec says what it is.
    r.lambda === null && r.resource !== null ? r.spec : r.policy,
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

const fixedCell = (f: { spec: string; kbps: number; f1: number } | null) => (f ? `${f.spec.replace(/^fixed:/, '')} (${num(f.kbps, 1)} kbit/s, F1 ${num(f.f1, 3)})` : '– (none reaches it)');
const over = (a: number, b: { kbps: number } | null) => (b && b.kbps > 0 ? `${(a / b.kbps).toFixed(2)}×` : '–');

/** Target and budget runs against each camera's fixed choice in hindsight; the calibration score. */
function constrainedSections(s: Summary): string[] {
  const out: string[] = [];
  if (s.targets.length > 0) {
    out.push('', '## Targets (per camera; bytes include the audits)', '');
    out.push('| policy | video | F1 | kbit/s | audits | cheapest fixed reaching that F1 | bytes vs it | cheapest fixed reaching the target | bytes vs it |');
    out.push('|---|---|---|---|---|---|---|---|---|');
    for (const t of s.targets) {
      out.push(`| ${t.spec} | ${t.video} | ${num(t.f1, 3)} | ${num(t.kbps, 1)} | ${(100 * t.auditShare).toFixed(1)}% | ${fixedCell(t.fixedAtF1)} | ${over(t.kbps, t.fixedAtF1)} | ${fixedCell(t.fixedAtTarget)} | ${over(t.kbps, t.fixedAtTarget)} |`);
    }
  }
  if (s.budgets.length > 0) {
    out.push('', '## Budgets (per camera)', '');
    out.push('| policy | video | kbit/s | vs budget | F1 | most accurate fixed within the budget |');
    out.push('|---|---|---|---|---|---|');
    for (const b of s.budgets) out.push(`| ${b.spec} | ${b.video} | ${num(b.kbps, 1)} | ${(b.kbps / b.budgetKbps).toFixed(2)}× | ${num(b.f1, 3)} | ${fixedCell(b.fixedWithin)} |`);
  }
  if (s.calibration.length > 0) {
    out.push('', '## AccGrad calibration (one-step moves of qp, resolution, fps on every probed segment)', '');
    out.push('| policy | moves | rank correlation (predicted vs realised F1 loss) | mean abs error (F1) | decisions right in hindsight |');
    out.push('|---|---|---|---|---|');
    for (const c of s.calibration) out.push(`| ${c.spec} | ${c.score.pairs} | ${num(c.score.rankCorrelation, 2)} | ${num(c.score.meanAbsError, 3)} | ${c.score.signRight === null ? '–' : `${(100 * c.score.signRight).toFixed(0)}%`} |`);
  }
  return out;
}

const config = (spec: string) => spec.replace(/^fixed:/, '');
const standing = (onFrontier: boolean, by: string | null) => (onFrontier ? 'on the frontier' : by ? `dominated by ${config(by)}` : 'off the frontier');

/**
 * Every grid configuration, cheapest first, and where it stands on each frontier: the tables
 * above show only the frontier, this says why every other configuration is left out.
 */
function gridSection(s: Summary): string[] {
  const grid = s.rows.filter((r) => r.grid).sort((a, b) => a.kbps - b.kbps || b.f1 - a.f1);
  const onBw = grid.filter((r) => r.onFixedFrontier).length;
  const onGpu = grid.filter((r) => r.onGpuFrontier).length;
  return [
    '',
    `## Fixed grid (all ${grid.length} configurations)`,
    '',
    `${onBw} of ${grid.length} are on the bandwidth frontier and ${onGpu} on the GPU frontier; the tables above show those. ` +
      'Every other one is dominated: the configuration named costs no more (kbit/s, or GPU frames/s) and reaches at least the same F1.',
    '',
    '| configuration | mean kbit/s | mean F1 | mAP@0.5 | GPU frames/s of video | bandwidth | GPU |',
    '|---|---|---|---|---|---|---|',
    ...grid.map((r) => `| ${config(r.spec)} | ${num(r.kbps, 1)} | ${num(r.f1, 3)} | ${num(r.map, 3)} | ${num(r.framesPerS, 1)} | ${standing(r.onFixedFrontier, r.dominatedBy?.bw ?? null)} | ${standing(r.onGpuFrontier, r.dominatedBy?.gpu ?? null)} |`),
  ];
}

/**
 * summary.md: the bandwidth table (adaptive runs priced on bytes, named fixed policies and the
 * fixed grid's frontier) and the GPU table (runs priced on frames inferred).
 */
export function summaryMarkdown(s: Summary, o: { showGrid: boolean; plots: string[] }): string {
  const isFixed = (r: SummaryRow) => r.resource === null;
  // In each table the grid's frontier on that cost stands for the grid; gridSection lists all of it.
  const fixedShown = (onFrontier: (r: SummaryRow) => boolean) => s.rows.filter((r) => isFixed(r) && (!r.grid || (o.showGrid && onFrontier(r))));
  const bw = [...fixedShown((r) => r.onFixedFrontier), ...s.rows.filter((r) => r.resource === 'bw')];
  const gpu = s.rows.filter((r) => r.resource === 'gpu');
  const gpuTable = [...fixedShown((r) => r.onGpuFrontier), ...gpu];
  const onBw = s.rows.filter((r) => r.grid && r.onFixedFrontier).length;
  const gridNote = o.showGrid
    ? ` The tables show the ${onBw} on the bandwidth frontier${gpu.length > 0 ? ` (the GPU table: the ${s.rows.filter((r) => r.grid && r.onGpuFrontier).length} on the GPU frontier)` : ''}; "Fixed grid" below lists all ${s.gridSize} and why the others are left out.`
    : ' They draw the frontiers and the oracles; add `fixed` to --policies to list them (all are in summary.json).';
  const videos = s.videos.map((v) => `${v.name} (${v.segments} segments, reference ${v.referenceKbps.toFixed(0)} kbit/s)`).join(', ');
  const out = [
    '# OneAdapt bench',
    '',
    `Videos: ${videos}. Fixed grid: ${s.gridSize} configurations on every segment.${gridNote}`,
    'Rows pool all videos (one fixed configuration serves every camera). "vs X" = this row\'s cost divided by',
    'curve X\'s cost at the same F1 (– where X does not reach that F1). F1 and mAP@0.5 are against the',
    'same model on the reference encode (QP 20, full resolution, 10 fps).',
    '',
    '## Bandwidth as the cost',
    '',
    table(bw, 'bw'),
  ];
  if (gpu.length > 0) out.push('', '## GPU as the cost (frames inferred per second of video)', '', table(gpuTable, 'gpu'));
  out.push('', '## Per video (against each video\'s own best fixed configuration)', '');
  out.push('| policy | λ | resource | ' + s.videos.map((v) => `${v.name} F1 | ${v.name} vs best fixed`).join(' | ') + ' |');
  out.push(`|${['policy', 'λ', 'resource', ...s.videos.flatMap(() => ['a', 'b'])].map(() => '---').join('|')}|`);
  for (const r of [...bw, ...gpu]) {
    const cells = r.perVideo.map((v) => `${num(v.f1, 3)} | ${ratio(r.resource === 'gpu' ? v.framesVsBestFixedAtEqualF1 : v.bytesVsBestFixedAtEqualF1)}`);
    out.push(`| ${r.lambda === null && r.resource !== null ? r.spec : r.policy} | ${lambda(r.lambda)} | ${r.resource ?? '–'} | ${cells.join(' | ')} |`);
  }
  if (o.showGrid) out.push(...gridSection(s));
  out.push(...constrainedSections(s));
  out.push(...fleetMarkdown(s.fleets));
  if (o.plots.length > 0) out.push('', '## Plots', '', ...o.plots.map((p) => `![${p}](${p})`));
  return out.join('\n') + '\n';
}

