import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { policyFromSpec } from '../../src/adapt/policies.js';
import { loadModel } from '../runtime.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';
import { createFfmpegMedia } from '../../src/media/ffmpeg.js';
import type { ObjectStore } from '../../src/storage/types.js';
import { SegmentProcessor } from '../../workers/inference/segment-processor.js';
import { drivePolicy } from './drive.js';
import { readFootage } from './footage.js';
import { DEFAULT_BENCH_GRID, gridSettings, settingKey, type BenchGrid } from './grid.js';
import { summaryMarkdown } from './markdown.js';
import { paretoPlot, timelinePlot, type TimelineSegment } from './plots.js';
import { renderPlot } from './render.js';
import { benchReport, videoRunOf, type SlotDetections } from './results.js';
import { LabCache } from './lab-cache.js';
import { calibrationPairs } from './calibration-pairs.js';
import { calibrationScore, type CalibrationPair, type CalibrationScore } from './calibration-score.js';
import { SegmentLab } from './segment-lab.js';
import { fleetComparison, fleetUnits, type FleetBudgetSpec } from './fleet-bench.js';

/** Bumped whenever what a measurement means changes, so that old cache files are not reused. */
const LAB_VERSION = 'lab-1';
import { expandRuns, type AdaptiveFamily, type Resource, type RunSpec } from './specs.js';
import { summarize, type RunResult, type Summary } from './summary.js';
import { meanAveragePrecision } from '../../src/accuracy/map.js';

export interface BenchOptions {
  videos: string[];
  /** Items of `--policies` (see expandRuns). */
  policies: string[];
  lambdas: Partial<Record<AdaptiveFamily, number[]>>;
  resources: Resource[];
  grid?: BenchGrid;
  outDir: string;
  model?: string;
  /** Whole segments per video at most (the start of each video). */
  maxSegments?: number;
  config?: Config;
  /** Folder of measurements kept between runs (see LabCache); none when absent. */
  cacheDir?: string;
  /** `--budget-kbps`: also compare the videos as one fleet under each of these totals. */
  fleetBudgets?: FleetBudgetSpec[];
  log?: (line: string) => void;
  onProgress?: (done: number, total: number) => void;
}

export interface BenchOutcome {
  summary: Summary;
  files: string[];
  seconds: number;
}

/** The bench never stores segments: the worker's store port is left unused. */
const NO_STORE: ObjectStore = {
  bucket: 'none',
  ensureBucket: async () => undefined,
  put: async () => undefined,
  get: async (key) => {
    throw new Error(`the bench keeps no objects (asked for ${key})`);
  },
  getIfExists: async () => undefined,
  list: async function* () {},
  delete: async () => undefined,
};

const fileLabel = (spec: string) => spec.replace(/[^A-Za-z0-9.+-]+/g, '_').replace(/_+$/, '');

/**
 * The comparison on the same footage: every grid configuration on every segment (batched,
 * cached), then every policy run driven segment by segment through the same cache, then
 * summary.json, summary.md, per-run reports and plots in `outDir`.
 */
export async function runBench(o: BenchOptions): Promise<BenchOutcome> {
  const started = performance.now();
  const log = o.log ?? (() => undefined);
  const config = o.config ?? loadConfig();
  // The grid and the profiling baselines keep roi at 0; OneAdapt (and `fixed:…,roi=n`) encode
  // with the region their own run's detections give, as the worker would send it.
  const spaces = DEFAULT_SPACES;
  const segS = config.segmentSeconds;
  const { runs, showGrid } = expandRuns(o.policies, o.lambdas, o.resources);
  // The fleet comparison runs OneAdapt too.
  const needsGradients = runs.some((r) => policyFromSpec(r.spec).needsGradients) || (o.fleetBudgets?.length ?? 0) > 0;
  const media = createFfmpegMedia({ ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath });
  const footage = [];
  for (const v of o.videos) footage.push(await readFootage(media, v, { analysisFps: config.analysisFps, segmentSeconds: segS, maxSegments: o.maxSegments }));
  const model = await loadModel(config, o.model ?? config.model, log, { gradients: needsGradients });
  try {
    const classes = new Set(model.spec.defaultClassesOfInterest);
    const processor = new SegmentProcessor({ store: NO_STORE, media, inference: model.pool, model: model.spec, modelKey: model.key, classes, gradientKey: model.gradientKey });
    const labs: SegmentLab[] = [];
    for (const f of footage) {
      const disk = o.cacheDir ? await LabCache.open(o.cacheDir, { video: f.path, model: model.key, segmentSeconds: segS, analysisFps: config.analysisFps, codeVersion: LAB_VERSION }) : undefined;
      if (disk && disk.size > 0) log(`bench: ${disk.size} measurements of ${f.name} reused from ${o.cacheDir}`);
      labs.push(new SegmentLab({ media, processor, model: model.spec, classes, spaces, analysisFps: config.analysisFps, segmentSeconds: segS }, f, disk));
    }
    const grid = gridSettings(o.grid ?? DEFAULT_BENCH_GRID, spaces);
    const gridRuns: RunSpec[] = grid.map((s) => ({ spec: `fixed:${settingKey(s)}`, family: 'fixed', lambda: null, resource: null }));
    const totalSegments = labs.reduce((s, l) => s + l.segments, 0);
    // Progress in units of work, so that the ETA is honest: a configuration to measure costs its
    // video's pixels; a policy's segment costs as much, six times for a gradient policy (probe
    // variants and the fused run), nearly nothing for one that replays measured configurations.
    const pixels = (lab: SegmentLab) => (lab.footage.width * lab.footage.height) / (320 * 240);
    const gridUnits = labs.map((lab) => Array.from({ length: lab.segments }, (_, seq) => lab.missing(seq, grid) * pixels(lab)));
    const runUnits = (spec: string) => (policyFromSpec(spec).needsGradients ? 6 : 0.2);
    const total = gridUnits.flat().reduce((s, u) => s + u, 0) + runs.reduce((s, r) => s + runUnits(r.spec) * labs.reduce((t, l) => t + l.segments * pixels(l), 0), 0) + fleetUnits(labs, o.fleetBudgets?.length ?? 0, pixels);
    let done = 0;
    const tick = (units: number) => o.onProgress?.((done += units), Math.max(total, done));

    // The grid, one segment ahead: encoding the next segment overlaps inferring this one.
    for (const [li, lab] of labs.entries()) {
      let ahead = lab.evaluateMany(0, grid);
      for (let seq = 0; seq < lab.segments; seq++) {
        const current = ahead;
        if (seq + 1 < lab.segments) ahead = lab.evaluateMany(seq + 1, grid);
        await current;
        tick(gridUnits[li][seq]);
      }
    }
    log(`bench: grid of ${grid.length} configurations measured on ${totalSegments} segments`);

    const results: RunResult[] = [];
    const calibration: { spec: string; score: CalibrationScore }[] = [];
    const reports: { path: string; body: unknown }[] = [];
    const timelines = new Map<string, { resource: Resource | null; label: string; segments: TimelineSegment[] }[]>();
    // Grid runs replay the cache (no tick: already counted); the other runs do real work.
    for (const [i, run] of [...gridRuns, ...runs].entries()) {
      const isGrid = i < gridRuns.length;
      const policy = policyFromSpec(run.spec);
      const videos = [];
      const slots: SlotDetections[] = [];
      const pairs: CalibrationPair[] = [];
      for (const lab of labs) {
        const trace = await drivePolicy(policy, lab.port(segS), isGrid ? undefined : () => tick(runUnits(run.spec) * pixels(lab)));
        if (policy.needsGradients) pairs.push(...(await calibrationPairs(lab, trace, spaces)));
        const r = await videoRunOf(lab, trace, classes, segS);
        videos.push(r.run);
        slots.push(r.slots);
        if (!isGrid) {
          const series = timelines.get(lab.footage.name) ?? [];
          series.push({
            resource: run.resource,
            label: run.lambda === null ? run.spec : `${run.family} λ=${run.lambda}`,
            segments: trace.rows.map((row) => ({ seq: row.seq, qp: row.setting.qp, resolution: row.setting.resolution, fps: row.setting.fps, roi: row.setting.roi, kbps: (row.outcome.bytes * 8) / 1000 / segS, f1: row.outcome.f1 })),
          });
          timelines.set(lab.footage.name, series);
        }
        const refBytes = await Promise.all(trace.rows.map(async (row) => (await lab.reference(row.seq)).bytes));
        reports.push({ path: path.join('reports', lab.footage.name, `${fileLabel(run.spec)}.json`), body: { grid: isGrid, report: benchReport(lab, trace, run, r.run, { model: model.spec.name, spaces, analysisFps: config.analysisFps, refBytes }) } });
      }
      const map = meanAveragePrecision(slots.flatMap((s) => s.predicted), slots.flatMap((s) => s.reference), classes);
      results.push({ ...run, grid: isGrid, map, videos });
      if (pairs.length > 0) calibration.push({ spec: run.spec, score: calibrationScore(pairs) });
    }

    const summary = summarize(
      results,
      labs.map((l, vi) => {
        const ref = results[0].videos[vi];
        return { name: l.footage.name, path: l.footage.path, segments: l.segments, durationS: ref.durationS, referenceKbps: (ref.segments.reduce((s, x) => s + x.bytes, 0) * 8) / 1000 / ref.durationS };
      }),
      calibration,
    );
    if (o.fleetBudgets && o.fleetBudgets.length > 0) {
      summary.fleets = await fleetComparison({ labs, grid: results.filter((r) => r.grid), budgets: o.fleetBudgets, segmentSeconds: segS, classes, onSegment: (lab, gradient) => tick((gradient ? 6 : 0.2) * pixels(lab)) });
    }
    await Promise.all(labs.map((l) => l.flush()));
    const files = await writeOutputs(o.outDir, summary, { showGrid, reports, timelines, resources: o.resources });
    return { summary, files, seconds: (performance.now() - started) / 1000 };
  } finally {
    await model.pool.close();
  }
}

async function writeOutputs(
  outDir: string,
  summary: Summary,
  o: {
    showGrid: boolean;
    reports: { path: string; body: unknown }[];
    timelines: Map<string, { resource: Resource | null; label: string; segments: TimelineSegment[] }[]>;
    resources: Resource[];
  },
): Promise<string[]> {
  const files: string[] = [];
  await mkdir(path.join(outDir, 'plots'), { recursive: true });
  const plots: string[] = [];
  for (const r of ['bw', 'gpu'] as Resource[]) {
    if (r === 'gpu' && !o.resources.includes('gpu')) continue;
    const p = await renderPlot(paretoPlot(summary, r), path.join(outDir, 'plots', `pareto-${r}`));
    plots.push(path.relative(outDir, p.png));
    files.push(p.svg, p.png);
  }
  for (const [video, series] of o.timelines) {
    for (const r of o.resources) {
      const chosen = series.filter((x) => x.resource === r || x.resource === null);
      if (chosen.length === 0) continue;
      const p = await renderPlot(timelinePlot(video, chosen), path.join(outDir, 'plots', `timeline-${r}-${fileLabel(video)}`));
      plots.push(path.relative(outDir, p.png));
      files.push(p.svg, p.png);
    }
  }
  // Grid reports only for the frontier (the whole grid is in summary.json).
  const frontier = new Set(summary.rows.filter((r) => r.onFixedFrontier).map((r) => r.spec));
  for (const { path: rel, body } of o.reports) {
    const { grid, report } = body as { grid: boolean; report: { bench: { spec: string } } };
    if (grid && !frontier.has(report.bench.spec)) continue;
    await mkdir(path.dirname(path.join(outDir, rel)), { recursive: true });
    await writeFile(path.join(outDir, rel), JSON.stringify(report, null, 2) + '\n');
    files.push(path.join(outDir, rel));
  }
  await writeFile(path.join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  await writeFile(path.join(outDir, 'summary.md'), summaryMarkdown(summary, { showGrid: o.showGrid, plots }));
  files.push(path.join(outDir, 'summary.json'), path.join(outDir, 'summary.md'));
  return files;
}
