import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summaryMarkdown } from '../../app/comparison/markdown.js';
import { paretoPlot, timelinePlot, TIMELINE_PANELS, type TimelineSegment } from '../../app/comparison/plots.js';
import { renderPlot } from '../../app/comparison/render.js';
import { summarize, type RunResult, type Summary } from '../../app/comparison/summary.js';
import type { KnobSetting } from '../../src/knobs/space.js';

/** A fixed run on one 2-segment video at a constant bytes and frames per segment and F1. */
function fixedRun(setting: KnobSetting, bytes: number, frames: number, f1: number, grid = true): RunResult {
  const spec = `fixed:qp=${setting.qp},resolution=${setting.resolution},fps=${setting.fps}`;
  const seg = (seq: number) => ({ seq, setting, bytes, frames, slots: 10, f1 });
  return { spec: grid ? spec : `fixed:qp=${setting.qp}`, family: 'fixed', lambda: null, resource: null, grid, map: f1, videos: [{ video: 'cam', durationS: 2, segments: [seg(0), seg(1)], map: f1, overheadMs: 0, profileFrames: 0, adaptationDelaysS: [] }] };
}

const at = (qp: number, resolution = 1, fps = 10): KnobSetting => ({ qp, resolution, fps, roi: 0 });

/** Tick labels and titles of a rendered plot: the text of every SVG <text>. */
async function labels(svgFile: string): Promise<string[]> {
  return [...(await readFile(svgFile, 'utf8')).matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

describe('bench summary: the whole fixed grid', () => {
  // kbit/s = bytes·8/1000 per 1-s segment. The reference, then QP 28 (cheaper, nearly as good),
  // QP 36 (dearer than QP 28 and worse: dominated on bytes), 5 fps (fewest frames: the GPU frontier).
  const runs = [
    fixedRun(at(20), 10_000, 10, 1),
    fixedRun(at(28), 5_000, 10, 0.95),
    fixedRun(at(36), 6_000, 10, 0.9),
    fixedRun(at(20, 1, 5), 7_000, 5, 0.8),
    fixedRun(at(30), 4_000, 10, 0.9, false),
    { ...fixedRun(at(20, 1, 5), 6_500, 6, 0.9, false), spec: 'oneadapt:lambda=0,gpu=0.1', family: 'oneadapt', lambda: 0.1, resource: 'gpu' },
  ] satisfies RunResult[];
  const s: Summary = summarize(runs, [{ name: 'cam', path: '/v/cam.mp4', segments: 2, durationS: 2, referenceKbps: 80 }]);
  const row = (spec: string) => s.rows.find((r) => r.spec === spec)!;

  it('says for every grid configuration whether it is on each frontier, or which one dominates it', () => {
    expect(row('fixed:qp=20,resolution=1,fps=10')).toMatchObject({ onFixedFrontier: true, onGpuFrontier: true, dominatedBy: { bw: null, gpu: null } });
    expect(row('fixed:qp=28,resolution=1,fps=10')).toMatchObject({ onFixedFrontier: true, onGpuFrontier: false, dominatedBy: { bw: null, gpu: 'fixed:qp=20,resolution=1,fps=10' } });
    expect(row('fixed:qp=36,resolution=1,fps=10')).toMatchObject({ onFixedFrontier: false, dominatedBy: { bw: 'fixed:qp=28,resolution=1,fps=10', gpu: 'fixed:qp=20,resolution=1,fps=10' } });
    expect(row('fixed:qp=20,resolution=1,fps=5')).toMatchObject({ onFixedFrontier: false, onGpuFrontier: true, dominatedBy: { bw: 'fixed:qp=28,resolution=1,fps=10', gpu: null } });
    expect(row('fixed:qp=30').dominatedBy).toBeNull();
  });

  it('lists all of them in summary.md with the reason each is left out of the tables', () => {
    const md = summaryMarkdown(s, { showGrid: true, plots: [] });
    expect(md).toContain('Fixed grid: 4 configurations on every segment. The tables show the 2 on the bandwidth frontier (the GPU table: the 2 on the GPU frontier);');
    const section = md.slice(md.indexOf('## Fixed grid (all 4 configurations)'));
    expect(section).toContain('2 of 4 are on the bandwidth frontier and 2 on the GPU frontier');
    const lines = section.split('\n').filter((l) => /^\| qp=/.test(l));
    // Cheapest first; every configuration, with where it stands on bandwidth and on GPU.
    expect(lines.map((l) => l.split(' | ').map((c) => c.replace(/^\| | \|$/g, '')))).toEqual([
      ['qp=28,resolution=1,fps=10', '40.0', '0.950', '0.950', '10.0', 'on the frontier', 'dominated by qp=20,resolution=1,fps=10'],
      ['qp=36,resolution=1,fps=10', '48.0', '0.900', '0.900', '10.0', 'dominated by qp=28,resolution=1,fps=10', 'dominated by qp=20,resolution=1,fps=10'],
      ['qp=20,resolution=1,fps=5', '56.0', '0.800', '0.800', '5.0', 'dominated by qp=28,resolution=1,fps=10', 'on the frontier'],
      ['qp=20,resolution=1,fps=10', '80.0', '1.000', '1.000', '10.0', 'on the frontier', 'on the frontier'],
    ]);
    // The bandwidth table shows the bandwidth frontier and the named run; the GPU table the GPU frontier.
    const bwTable = md.slice(md.indexOf('## Bandwidth as the cost'), md.indexOf('## GPU as the cost'));
    expect(bwTable.match(/^\| fixed:[^ ]+/gm)).toEqual(['| fixed:qp=20,resolution=1,fps=10', '| fixed:qp=28,resolution=1,fps=10', '| fixed:qp=30']);
    const gpuTable = md.slice(md.indexOf('## GPU as the cost'), md.indexOf('## Per video'));
    expect(gpuTable.match(/^\| [^ ]+/gm)).toEqual(['| policy', '| fixed:qp=20,resolution=1,fps=10', '| fixed:qp=20,resolution=1,fps=5', '| fixed:qp=30', '| oneadapt']);
  });

  it('says where the grid is when it is not listed', () => {
    const md = summaryMarkdown(s, { showGrid: false, plots: [] });
    expect(md).toContain('Fixed grid: 4 configurations on every segment. They draw the frontiers and the oracles; add `fixed` to --policies to list them');
    expect(md).not.toContain('## Fixed grid');
  });
});

describe('bench plots', () => {
  let dir: string;
  // Knobs that move (roi too) and kbit/s in the hundreds to thousands: the ticks Vega's `~g`
  // labelled 5e+2 and 1.5e+3.
  const segments: TimelineSegment[] = Array.from({ length: 10 }, (_, seq) => ({ seq, qp: 20 + 2 * seq, resolution: 1 - 0.05 * seq, fps: seq % 2 ? 5 : 10, roi: seq < 3 ? 0 : 8, kbps: 200 + 180 * seq, f1: 1 - 0.03 * seq }));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'oneadapt-plots-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('draws a panel per knob, roi included, then kbit/s and F1', async () => {
    const spec = timelinePlot('cam', [{ label: 'oneadapt λ=0.1', segments }, { label: 'fixed:qp=28', segments: segments.map((x) => ({ ...x, qp: 28, roi: 0 })) }]) as { vconcat: { encoding: { y: { field: string; title: string } } }[] };
    expect(spec.vconcat.map((p) => p.encoding.y.field)).toEqual(['qp', 'resolution', 'fps', 'roi', 'kbps', 'f1']);
    expect(TIMELINE_PANELS.map((p) => p.field)).toEqual(['qp', 'resolution', 'fps', 'roi', 'kbps', 'f1']);
    const out = await renderPlot(spec as Parameters<typeof renderPlot>[0], path.join(dir, 'timeline'));
    const text = await labels(out.svg);
    expect(text).toContain('roi QP offset');
    // The roi panel's axis reaches the offset the run used.
    expect(text).toContain('8');
    expect(PNG.sync.read(await readFile(out.png)).height).toBeGreaterThan(6 * 2 * 90);
  });

  it('labels ticks as plain numbers: 500, 1k, 1.5k, 0.9 — never 5e+2', async () => {
    const out = await renderPlot(timelinePlot('cam', [{ label: 'oneadapt', segments }]), path.join(dir, 'ticks'));
    const text = await labels(out.svg);
    expect(text.filter((t) => /\de[+-]\d/.test(t))).toEqual([]);
    for (const t of ['500', '1k', '1.5k', '2k', '20', '25', '10', '0.9', '0.6']) expect(text, t).toContain(t);

    const s = summarize([fixedRun(at(20), 300_000, 10, 1), fixedRun(at(28), 150_000, 10, 0.95), fixedRun(at(36), 40_000, 10, 0.8)], [{ name: 'cam', path: '/v/cam.mp4', segments: 2, durationS: 2, referenceKbps: 2400 }]);
    const pareto = await labels((await renderPlot(paretoPlot(s, 'bw'), path.join(dir, 'pareto'))).svg);
    expect(pareto.filter((t) => /\de[+-]\d/.test(t))).toEqual([]);
    expect(pareto.some((t) => /^\d+(\.\d+)?k$/.test(t))).toBe(true);
  });
});
