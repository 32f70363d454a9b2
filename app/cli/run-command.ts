import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { runVideos } from '../run-job.js';
import { loadConfig } from '../../src/config/config.js';
import { parseSpaces, type KnobSpaces } from '../../src/knobs/space.js';
import { countOption } from './options.js';
import { summaryTable } from '../../src/report/report.js';
import { progressBar } from './progress.js';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run videos through the full pipeline (ingest → S3 → BullMQ → worker → coordinator) and report')
    .argument('<videos...>', 'video files or live URLs; each becomes a stream')
    .option('--policy <policy>', 'knob policy: oneadapt[:<param>=<v>,…] | fixed:<knob>=<level>,… | script:<seq>@<knobs>;… (default: ONEADAPT_POLICY)')
    .option('--model <model>', 'model name (yolox-nano, fastestdet, ultraface, ultraface-slim) or [family:]path.onnx (default: ONEADAPT_MODEL)')
    .option('--report <file>', 'write the JSON report here')
    .option('--no-lockstep', 'do not wait for each update before cutting the next segment (live behaviour)')
    .option('--audit-every <n>', 'measure F1 against the reference encode every n segments (0 = never)', countOption('--audit-every', 0), 1)
    .option('--probe-every <n>', 'InputGrad probe (and gradient sample) every n segments, for gradient policies (default: ONEADAPT_PROBE_EVERY)', countOption('--probe-every', 1))
    .option('--levels <ladders>', 'knob ladders, expensive first, e.g. "qp=20,22,24,26,28,30,32;fps=10,5;roi=0,8,16"', (v: string) => parseSpaces(v))
    .option('--max-segments <n>', 'stop each stream after n segments', countOption('--max-segments', 1))
    .action(async (videos: string[], o: { policy?: string; model?: string; report?: string; lockstep: boolean; auditEvery: number; probeEvery?: number; levels?: KnobSpaces; maxSegments?: number }) => {
      const config = loadConfig();
      const bar = progressBar('run');
      const reports = await runVideos(config, {
        videos,
        policy: o.policy,
        model: o.model,
        lockstep: o.lockstep,
        auditEvery: o.auditEvery,
        probeEvery: o.probeEvery,
        spaces: o.levels,
        maxSegments: o.maxSegments,
        log: (l) => process.stderr.write(`${l}\n`),
        onProgress: (d, t) => bar.update(d, t),
      }).finally(() => bar.stop());
      console.log(summaryTable(reports));
      if (o.report) {
        await writeFile(o.report, JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + '\n');
        console.log(`report written to ${o.report}`);
      }
    });
}
