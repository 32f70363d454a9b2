import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { runVideos } from '../run-job.js';
import { loadConfig } from '../../src/config/config.js';
import { abortOnSignals } from '../signals.js';
import { streamOptions, streamRequestOf, type StreamFlags } from './options.js';
import { summaryTable } from '../../src/report/report.js';
import { progressBar } from './progress.js';
import { observeProcess } from '../observability.js';

export function registerRunCommand(program: Command): void {
  const run = program
    .command('run')
    .description('run videos through the full pipeline (ingest → S3 → BullMQ → worker → coordinator) and report')
    .argument('<videos...>', 'video files or live URLs; each becomes a stream')
    .option('--report <file>', 'write the JSON report here')
    .option('--no-lockstep', 'do not wait for each update before cutting the next segment (live behaviour)');
  streamOptions(run, { auditEvery: 1, maxSegments: true }).action(async (videos: string[], o: StreamFlags & { report?: string; lockstep: boolean }) => {
    const config = loadConfig();
    const seen = await observeProcess(config, 'run');
    const bar = progressBar('run');
    const abort = new AbortController();
    abortOnSignals(abort, (l) => seen.log(l));
    const reports = await runVideos(config, {
      videos,
      signal: abort.signal,
      ...streamRequestOf(o),
      lockstep: o.lockstep,
      log: seen.log,
      metrics: seen.metrics,
      onRuntime: (rt) => seen.attach(rt),
      onProgress: (d, t) => bar.update(d, t),
    }).finally(async () => {
      bar.stop();
      await seen.close();
    });
    console.log(summaryTable(reports));
    if (o.report) {
      await writeFile(o.report, JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + '\n');
      console.log(`report written to ${o.report}`);
    }
  });
}
