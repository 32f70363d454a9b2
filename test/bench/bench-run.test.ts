import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerBenchCommand } from '../../app/cli/bench-command.js';
import { defaultModelsDir } from '../../src/models/catalog.js';

const CLIP = path.resolve('../shared/footage/highway-320x240.avi');
const MODEL = path.join(process.env.ONEADAPT_MODELS_DIR ?? defaultModelsDir(), 'yolox-nano/yolox_nano.onnx');
const missing = [CLIP, MODEL].filter((f) => !existsSync(f));

/** Distinct colours and the share of pixels that are not the white background. */
function pngStats(data: Buffer): { width: number; height: number; inked: number; colours: number } {
  const png = PNG.sync.read(data);
  const colours = new Set<number>();
  let inked = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
    if (r < 245 || g < 245 || b < 245) inked++;
    colours.add((r >> 4) * 256 + (g >> 4) * 16 + (b >> 4));
  }
  return { width: png.width, height: png.height, inked: inked / (png.width * png.height), colours: colours.size };
}

describe.skipIf(missing.length > 0)(`oneadapt bench on a short clip${missing.length > 0 ? ` (skipped: missing ${missing.join(', ')})` : ''}`, () => {
  let out: string;

  beforeAll(async () => {
    out = await mkdtemp(path.join(tmpdir(), 'oneadapt-bench-'));
    const program = new Command().exitOverride();
    registerBenchCommand(program);
    // 5 segments, a 12-configuration grid, one λ per policy; spare capacity high enough that
    // the profiling baselines adapt within the clip, and a OneAdapt λ that makes it move.
    await program.parseAsync([
      'node', 'oneadapt', 'bench', CLIP,
      '--max-segments', '5',
      '--grid-qp', '20,32,44', '--grid-resolution', '1,0.53', '--grid-fps', '10,5', '--grid-fps-ladder', '10,5',
      '--policies', 'fixed fixed:qp=28 fixed:qp=20,roi=12 awstream:qp=20+32+44,resolution=1+0.53,spare=60 chameleon:spare=60 oneadapt',
      '--lambdas', 'oneadapt=1e5;awstream=0.2;chameleon=0.2',
      '--out', out,
    ]);
  }, 150_000);

  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('writes summary.json with one row per (policy, λ, resource) and the comparisons', async () => {
    const s = JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8'));
    expect(s.videos).toHaveLength(1);
    expect(s.gridSize).toBe(12);
    const adaptive = s.rows.filter((r: { resource: string | null }) => r.resource !== null);
    expect(adaptive.map((r: { policy: string; resource: string }) => `${r.policy}/${r.resource}`).sort()).toEqual(
      ['awstream/bw', 'awstream/gpu', 'chameleon/bw', 'chameleon/gpu', 'oneadapt/bw', 'oneadapt/gpu'],
    );
    const ref = s.rows.find((r: { spec: string }) => r.spec === 'fixed:qp=20,resolution=1,fps=10');
    expect(ref.f1).toBe(1);
    expect(ref.map).toBe(1);
    expect(ref.bytesVsBestFixedAtEqualF1).toBeCloseTo(1);
    for (const r of s.rows) {
      expect(r.f1).toBeGreaterThan(0);
      expect(r.f1).toBeLessThanOrEqual(1);
      expect(r.kbps).toBeGreaterThan(0);
      expect(r.perVideo).toHaveLength(1);
      for (const k of ['bytesVsBestFixedAtEqualF1', 'bytesVsAwstreamAtEqualF1', 'bytesVsChameleonAtEqualF1', 'bytesVsOracleAtEqualF1', 'bytesVsLag1OracleAtEqualF1']) expect(r).toHaveProperty(k);
    }
    // The oracle is never worse than the best fixed configuration.
    expect(s.curves.bw.oracle.length).toBeGreaterThan(1);
    const oneadapt = s.rows.find((r: { policy: string; resource: string }) => r.policy === 'oneadapt' && r.resource === 'bw');
    expect(oneadapt.adaptationDelayS).toBe(1);
    expect(oneadapt.overheadMsPerS).toBeGreaterThan(0);
    const aw = s.rows.find((r: { policy: string; resource: string }) => r.policy === 'awstream' && r.resource === 'bw');
    expect(aw.profileFramesPerS).toBeGreaterThan(0);
  });

  it('encodes region-of-interest runs with the region of their own previous segment', async () => {
    type Rows = { perSegment: { seq: number; bytes: number; knobs: { roi: number } }[] };
    const read = async (name: string) => JSON.parse(await readFile(path.join(out, 'reports', 'highway-320x240', name), 'utf8')) as Rows;
    const [roi, ref] = [await read('fixed_qp_20_roi_12.json'), await read('fixed_qp_20_resolution_1_fps_10.json')];
    expect(roi.perSegment.every((r) => r.knobs.roi === 12)).toBe(true);
    // No region before the first segment's detections: the reference encode itself.
    expect(roi.perSegment[0].bytes).toBe(ref.perSegment[0].bytes);
    for (const r of roi.perSegment.slice(1)) expect(r.bytes).toBeLessThan(0.9 * ref.perSegment[r.seq].bytes);
  });

  it('writes summary.md with the table', async () => {
    const md = await readFile(path.join(out, 'summary.md'), 'utf8');
    expect(md).toContain('| policy | λ | mean kbit/s | mean F1 | mAP@0.5 | GPU frames/s of video | mean adaptation delay (s) | overhead ms/s |');
    expect(md).toMatch(/\| oneadapt \| 100000 \|/);
    expect(md).toMatch(/\| fixed:qp=28 \|/);
  });

  it('lists every grid configuration in summary.md, each on a frontier or with the one that dominates it', async () => {
    const md = await readFile(path.join(out, 'summary.md'), 'utf8');
    const section = md.slice(md.indexOf('## Fixed grid (all 12 configurations)'));
    expect(section.length).toBeGreaterThan(0);
    const rows = section.split('\n').filter((l) => /^\| qp=/.test(l)).map((l) => l.replace(/^\| | \|$/g, '').split(' | '));
    expect(rows).toHaveLength(12);
    const s = JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8'));
    const grid = s.rows.filter((r: { grid: boolean }) => r.grid);
    expect(rows.map((r) => `fixed:${r[0]}`).sort()).toEqual(grid.map((r: { spec: string }) => r.spec).sort());
    for (const [column, resource] of [[5, 'bw'], [6, 'gpu']] as const) {
      const on = new Set(rows.filter((r) => r[column] === 'on the frontier').map((r) => r[0]));
      expect(on.size).toBeGreaterThan(0);
      for (const r of rows) {
        const json = grid.find((g: { spec: string }) => g.spec === `fixed:${r[0]}`);
        if (r[column] === 'on the frontier') {
          expect(json.dominatedBy[resource]).toBeNull();
          continue;
        }
        // Dominated by a frontier configuration that costs no more for at least the same F1.
        const by = /^dominated by (.+)$/.exec(r[column])?.[1];
        expect(on.has(by!), `${r[0]} (${resource}): ${r[column]}`).toBe(true);
        expect(json.dominatedBy[resource]).toBe(`fixed:${by}`);
        const other = grid.find((g: { spec: string }) => g.spec === `fixed:${by}`);
        expect(other.f1).toBeGreaterThanOrEqual(json.f1 - 1e-9);
        expect(resource === 'bw' ? other.kbps : other.framesPerS).toBeLessThanOrEqual((resource === 'bw' ? json.kbps : json.framesPerS) + 1e-9);
      }
    }
    // The bandwidth table shows exactly the configurations on the bandwidth frontier.
    const bwTable = md.slice(md.indexOf('## Bandwidth as the cost'), md.indexOf('## GPU as the cost'));
    const shown = [...bwTable.matchAll(/^\| fixed:(qp=\d+,resolution=[\d.]+,fps=\d+) \|/gm)].map((m) => m[1]).sort();
    expect(shown).toEqual(rows.filter((r) => r[5] === 'on the frontier').map((r) => r[0]).sort());
  });

  it('writes a report (docs/report.md) per run', async () => {
    const dir = path.join(out, 'reports', 'highway-320x240');
    const files = await readdir(dir);
    expect(files.some((f) => f.startsWith('oneadapt'))).toBe(true);
    expect(files.some((f) => f.startsWith('awstream'))).toBe(true);
    const r = JSON.parse(await readFile(path.join(dir, files.find((f) => f.startsWith('oneadapt'))!), 'utf8'));
    expect(r.segments).toBe(5);
    expect(r.perSegment).toHaveLength(5);
    expect(r.totals.framesInferred).toBeGreaterThan(0);
    expect(r.perSegment[1].gradMs).toBeGreaterThan(0);
  });

  it('draws the plots as SVG and as PNGs with real content', async () => {
    const plots = await readdir(path.join(out, 'plots'));
    for (const name of ['pareto-bw', 'pareto-gpu', 'timeline-bw-highway-320x240', 'timeline-gpu-highway-320x240']) {
      expect(plots).toContain(`${name}.svg`);
      const svg = await readFile(path.join(out, 'plots', `${name}.svg`), 'utf8');
      expect(svg).toMatch(/^<svg/);
      expect(svg).toContain('<path');
      const stats = pngStats(await readFile(path.join(out, 'plots', `${name}.png`)));
      expect(stats.width).toBeGreaterThan(400);
      expect(stats.inked).toBeGreaterThan(0.02);
      expect(stats.colours).toBeGreaterThan(8);
      // Tick labels are plain numbers (400, 1.5k), never exponents (4e+2).
      const text = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
      expect(text.filter((t) => /\de[+-]\d/.test(t)), name).toEqual([]);
      if (name.startsWith('timeline')) for (const title of ['QP', 'resolution scale', 'frames/s', 'roi QP offset', 'kbit/s', 'F1']) expect(text, `${name}: ${title}`).toContain(title);
    }
  });
});
