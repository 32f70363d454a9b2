import type { FleetSection } from './fleet-section.js';

const num = (v: number | null, digits: number) => (v === null || !Number.isFinite(v) ? '–' : v.toFixed(digits));

/** summary.md's "Fleet budgets" section (empty without fleet runs). */
export function fleetMarkdown(f: FleetSection | undefined): string[] {
  if (!f || f.budgets.length === 0) return [];
  const out = ['', '## Fleet budgets', ''];
  out.push(
    `The videos as one fleet under one total bitrate. Fleet mean F1: the mean of the cameras' F1; total: all bits over the fleet's ${Math.max(...f.videos.map((v) => v.segments))} s;`,
    '10-s windows: the lowest and highest total over the 10-s windows from 5 s on, × the budget. Static methods hold the sum of the cameras\' mean rates within the budget.',
    `\`N%\` budgets: of ${num(f.referenceSumKbps, 1)} kbit/s, the sum of each camera's cheapest fixed configuration reaching F1 ${f.referenceF1} (${f.videos.map((v) => `${v.name} ${num(v.cheapestAtReferenceF1.kbps, 1)}`).join(', ')}).`,
  );
  for (const b of f.budgets) {
    out.push('', `### ${num(b.budgetKbps, 1)} kbit/s${b.asked.endsWith('%') ? ` (${b.asked})` : ''}`, '');
    out.push('| method | fleet mean F1 | worst camera F1 | total kbit/s | 10-s windows (× budget) | follows a scene change (median s; followed/changes) | back to budget after a camera leaves (s) |');
    out.push('|---|---|---|---|---|---|---|');
    for (const r of b.rows) {
      out.push(`| ${r.label} | ${num(r.meanF1, 3)} | ${num(r.worstF1, 3)} | ${num(r.kbps, 1)} | ${num(r.windowMin, 2)}–${num(r.windowMax, 2)} | ${r.followS === null ? '–' : `${num(r.followS, 0)} (${r.followed}/${r.changes})`} | ${num(r.rebalanceS, 0)} |`);
    }
    out.push('', `| method | ${b.rows[0].perCamera.map((c) => `${c.video} kbit/s | ${c.video} F1`).join(' | ')} |`);
    out.push(`|---|${b.rows[0].perCamera.map(() => '---|---').join('|')}|`);
    for (const r of b.rows) out.push(`| ${r.label} | ${r.perCamera.map((c) => `${num(c.kbps, 1)}${c.spec ? ` (${c.spec.replace(/^fixed:/, '')})` : ''} | ${num(c.f1, 3)}`).join(' | ')} |`);
  }
  return out;
}
