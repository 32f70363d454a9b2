import type { Command } from 'commander';
import { archiveProgress, enqueueArchives } from '../enqueue.js';
import { ingestSource } from '../ingest-source.js';
import { closeOnSignals, startRoles, type RoleName } from '../roles.js';
import { createRuntime } from '../runtime.js';
import { loadConfig } from '../../src/config/config.js';
import { parseSpaces, type KnobSpaces } from '../../src/knobs/space.js';
import { countOption } from './options.js';
import { progressBar } from './progress.js';

const log = (l: string) => process.stderr.write(`${l}\n`);

async function serve(roles: RoleName[]): Promise<void> {
  const running = await startRoles(loadConfig(), roles, { log });
  closeOnSignals(() => running.close(), log);
  await new Promise(() => undefined);
}

export function registerRoleCommands(program: Command): void {
  program.command('worker').description('inference worker: segments → detections (+ gradients) → results').action(() => serve(['worker']));
  program.command('coordinator').description('coordinator: results → policy step → knob updates').action(() => serve(['coordinator']));
  program.command('up').description('worker, coordinator and archive ingest in one process').action(() => serve(['worker', 'coordinator', 'ingest']));

  program
    .command('ingest')
    .description('ingest one source (file or live URL): cut, encode with the stream\'s knobs, upload, enqueue; without a source, take archived-footage jobs (the ingest role of `up`)')
    .argument('[source]', 'video file or URL (rtsp://, http://, …)')
    .option('--stream-id <id>', 'stream id (default: from the source name)')
    .option('--policy <policy>', 'knob policy (default: ONEADAPT_POLICY)')
    .option('--model <model>', 'model recorded with the stream (default: ONEADAPT_MODEL)')
    .option('--lockstep', 'wait for each segment\'s update before the next (default for files)')
    .option('--no-lockstep', 'never wait (default for live URLs)')
    .option('--audit-every <n>', 'upload a reference encode every n segments for accuracy audits (0 = never)', countOption('--audit-every', 0), 0)
    .option('--probe-every <n>', 'InputGrad probe every n segments for gradient policies (default: ONEADAPT_PROBE_EVERY)', countOption('--probe-every', 1))
    .option('--levels <ladders>', 'knob ladders, expensive first, e.g. "qp=20,24,28;fps=10,5"', (v: string) => parseSpaces(v))
    .option('--max-segments <n>', 'stop after n segments', countOption('--max-segments', 1))
    .action(async (source: string | undefined, o: { streamId?: string; policy?: string; model?: string; lockstep?: boolean; auditEvery: number; probeEvery?: number; levels?: KnobSpaces; maxSegments?: number }) => {
      if (source === undefined) return serve(['ingest']);
      const abort = new AbortController();
      closeOnSignals(async () => abort.abort(), log);
      const s = await ingestSource(
        loadConfig(),
        { source, streamId: o.streamId, policy: o.policy, model: o.model, lockstep: o.lockstep, auditEvery: o.auditEvery, probeEvery: o.probeEvery, spaces: o.levels, maxSegments: o.maxSegments },
        { signal: abort.signal, log },
      );
      log(`ingest: stream ${s.streamId} done, ${s.segments} segments`);
    });

  program
    .command('enqueue')
    .description('archived footage → one stream per video, processed by `up`/`ingest` roles')
    .argument('<inputs...>', 'video files, folders, or s3://bucket/prefix')
    .option('--policy <policy>', 'knob policy for these streams (default: ONEADAPT_POLICY)')
    .option('--model <model>', 'model recorded with the streams (default: ONEADAPT_MODEL)')
    .option('--audit-every <n>', 'reference encode every n segments for accuracy audits (0 = never)', countOption('--audit-every', 0))
    .option('--probe-every <n>', 'InputGrad probe every n segments for gradient policies (default: ONEADAPT_PROBE_EVERY of the ingest)', countOption('--probe-every', 1))
    .option('--levels <ladders>', 'knob ladders, expensive first', (v: string) => parseSpaces(v))
    .option('--wait', 'wait until every stream is processed, with a progress bar')
    .action(async (inputs: string[], o: { policy?: string; model?: string; auditEvery?: number; probeEvery?: number; levels?: KnobSpaces; wait?: boolean }) => {
      const rt = await createRuntime(loadConfig());
      try {
        const streams = await enqueueArchives(rt, inputs, { policy: o.policy, model: o.model, auditEvery: o.auditEvery, probeEvery: o.probeEvery, spaces: o.levels, log });
        if (!o.wait) return;
        const bar = progressBar('enqueue');
        for (;;) {
          const p = await archiveProgress(rt, streams);
          bar.update(p.done, p.total);
          if (p.finished === streams.length) break;
          await new Promise((r) => setTimeout(r, 500));
        }
        bar.stop();
        log(`enqueue: ${streams.length} streams processed`);
      } finally {
        await rt.close();
      }
    });
}
