import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { runBench } from '../comparison/comparison.js';
import { DEFAULT_BENCH_GRID, parseLevels } from '../comparison/grid.js';
import { parseLambdas, parsePolicyList, type Resource } from '../comparison/specs.js';
import { parseFleetBudgets } from '../comparison/fleet-bench.js';

interface BenchFlags {
  policies: string[];
  lambdas?: string;
  resources: string;
  out: string;
  model?: string;
  maxSegments?: string;
  gridQp?: string;
  gridResolution?: string;
  gridFps?: string;
  gridFpsLadder?: string;
  cache?: string;
  budgetKbps?: string;
}

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), ...parsePolicyList(v)];

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('compare fixed configurations, AWStream, Chameleon and OneAdapt on the same footage: table, JSON, reports, plots')
    .argument('<videos...>', 'video files; pooled in the summary, also compared one by one')
    .option('--policies <list>', 'policies separated by ";" or spaces (repeatable): fixed (the whole grid) | fixed:<knob>=<level>,… | awstream[:<p>=<v>,…] | chameleon[:…] | oneadapt[:…]', collect)
    .option('--lambdas <list>', 'λ sweep: "0.1,0.2" for every adaptive policy, or "oneadapt=2.5e-4,1e-3;awstream=0.05,0.2" (default: per policy, see README)')
    .option('--resources <list>', 'costs to compare on: bw (bytes), gpu (frames inferred)', 'bw,gpu')
    .option('--out <dir>', 'output folder', 'bench-out')
    .option('--model <model>', 'model name or [family:]path.onnx (default: ONEADAPT_MODEL)')
    .option('--max-segments <n>', 'use only the first n 1-s segments of each video')
    .option('--cache <dir>', 'keep measurements in this folder and reuse them in later runs (same video, model, segment length)')
    .option('--budget-kbps <list>', 'also run the videos as one fleet under each total, kbit/s or % of the sum of the cameras\' cheapest fixed configurations reaching F1 0.9 (e.g. 600,300 or 25%,50%)')
    .option('--grid-qp <list>', `fixed grid QPs (default ${DEFAULT_BENCH_GRID.qp.join(',')})`)
    .option('--grid-resolution <list>', `fixed grid resolution scales (default ${DEFAULT_BENCH_GRID.resolution.join(',')})`)
    .option('--grid-fps <list>', `fixed grid frame rates (default ${DEFAULT_BENCH_GRID.fps.join(',')})`)
    .option('--grid-fps-ladder <list>', `frame rates also measured at reference QP and resolution (default ${DEFAULT_BENCH_GRID.fpsLadder.join(',')})`)
    .action(async (videos: string[], o: BenchFlags) => {
      const resources = o.resources.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = resources.filter((r) => r !== 'bw' && r !== 'gpu');
      if (bad.length > 0 || resources.length === 0) throw new Error(`bad --resources "${o.resources}": expected a comma list of bw, gpu`);
      const grid = {
        qp: o.gridQp ? parseLevels(o.gridQp, '--grid-qp') : DEFAULT_BENCH_GRID.qp,
        resolution: o.gridResolution ? parseLevels(o.gridResolution, '--grid-resolution') : DEFAULT_BENCH_GRID.resolution,
        fps: o.gridFps ? parseLevels(o.gridFps, '--grid-fps') : DEFAULT_BENCH_GRID.fps,
        fpsLadder: o.gridFpsLadder ? parseLevels(o.gridFpsLadder, '--grid-fps-ladder') : DEFAULT_BENCH_GRID.fpsLadder,
      };
      const maxSegments = o.maxSegments === undefined ? undefined : Number(o.maxSegments);
      if (maxSegments !== undefined && !(Number.isInteger(maxSegments) && maxSegments > 0)) throw new Error(`bad --max-segments "${o.maxSegments}": expected a positive integer`);
      const bar = new SingleBar({ format: 'bench {bar} {percentage}% of the work | {duration_formatted} elapsed, ETA {eta_formatted}', stream: process.stderr, noTTYOutput: true, notTTYSchedule: 15_000 }, Presets.shades_classic);
      let started = false;
      const outcome = await runBench({
        videos,
        policies: o.policies ?? parsePolicyList('fixed;awstream;chameleon;oneadapt'),
        lambdas: o.lambdas ? parseLambdas(o.lambdas) : {},
        resources: resources as Resource[],
        grid,
        outDir: o.out,
        model: o.model,
        maxSegments,
        cacheDir: o.cache,
        ...(o.budgetKbps ? { fleetBudgets: parseFleetBudgets(o.budgetKbps) } : {}),
        log: (l) => process.stderr.write(`${l}\n`),
        onProgress: (done, total) => {
          if (!started) {
            bar.start(total, 0);
            started = true;
          }
          bar.setTotal(total);
          bar.update(done);
        },
      }).finally(() => bar.stop());
      process.stdout.write(`bench: ${outcome.summary.rows.length} rows in ${outcome.seconds.toFixed(0)} s; wrote ${o.out}/summary.md, summary.json, ${outcome.files.length - 2} reports and plots\n`);
    });
}
