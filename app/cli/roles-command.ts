import type { Command } from 'commander';
import { archiveProgress, archiveReports, enqueueArchives } from '../enqueue.js';
import { ingestSource } from '../ingest-source.js';
import { startRoles, type RoleName } from '../roles.js';
import { abortOnSignals, closeOnSignals } from '../signals.js';
import { createRuntime } from '../runtime.js';
import { loadConfig } from '../../src/config/config.js';
import { fleetBudgetOf, streamOptions, streamRequestOf, type StreamFlags } from './options.js';
import { setFleetBudget } from './fleet-command.js';
import { FleetRegister } from '../../src/queue/fleet-register.js';
import { streamsProgress } from './progress.js';
import { summaryTable } from '../../src/report/report.js';
import { observeProcess } from '../observability.js';
import { AttachedDashboard } from '../dashboard/attached.js';
import { checkDashboardBind } from '../dashboard/auth.js';
import { dashboardSettings } from '../dashboard/settings.js';

const log = (l: string) => process.stderr.write(`${l}\n`);

async function serve(roles: RoleName[], role: string = roles.join('+'), opts: { dashboard?: boolean } = {}): Promise<void> {
  const config = loadConfig();
  // `up` serves the dashboard when ONEADAPT_DASHBOARD_PORT says where (read before anything starts).
  const board = opts.dashboard ? dashboardSettings() : undefined;
  if (board?.port !== undefined) checkDashboardBind(board.host, board.token);
  const seen = await observeProcess(config, role);
  const running = await startRoles(config, roles, { log: seen.log, metrics: seen.metrics });
  seen.attach(running.runtime);
  const dashboard = board?.port === undefined ? undefined : new AttachedDashboard({ host: board.host, port: board.port, token: board.token, metrics: seen.metrics, log: seen.log });
  dashboard?.attach(running.runtime);
  closeOnSignals(async () => {
    // Out of rotation first: no new traffic while jobs in flight finish.
    seen.drain();
    await dashboard?.close();
    await running.close();
    await seen.close();
  }, seen.log);
  // A Redis that lost its state must not be served as if it were empty: stop, loudly.
  running.runtime.watchState((err) => {
    seen.fail(err.message);
    seen.log(`oneadapt: ${err.message}`, { level: 'error' });
    setTimeout(() => process.exit(1), 10_000).unref();
    void running.close({ force: true }).finally(() => process.exit(1));
  });
  await new Promise(() => undefined);
}

export function registerRoleCommands(program: Command): void {
  program.command('worker').description('inference worker: segments → detections (+ gradients) → results').action(() => serve(['worker']));
  program.command('coordinator').description('coordinator: results → policy step → knob updates').action(() => serve(['coordinator']));
  program.command('up').description('worker, coordinator and archive ingest in one process (and the dashboard when ONEADAPT_DASHBOARD_PORT is set)').action(() => serve(['worker', 'coordinator', 'ingest'], 'up', { dashboard: true }));

  const ingest = program
    .command('ingest')
    .description('ingest one source (file or live URL): cut, encode with the stream\'s knobs, upload, enqueue; without a source, take archived-footage jobs (the ingest role of `up`)')
    .argument('[source]', 'video file or URL (rtsp://, http://, …)')
    .option('--stream-id <id>', 'stream id (default: from the source name)')
    .option('--lockstep', 'wait for each segment\'s update before the next (default for files)')
    .option('--no-lockstep', 'never wait (default for live URLs)');
  streamOptions(ingest, { auditEvery: 0, maxSegments: true }).action(async (source: string | undefined, o: StreamFlags & { streamId?: string; lockstep?: boolean }) => {
    if (source === undefined) return serve(['ingest']);
    const abort = new AbortController();
    const config = loadConfig();
    const budget = fleetBudgetOf(o);
    if (budget && o.fleet === undefined) throw new Error('--budget-kbps and --budget-gpu-fps set a fleet\'s budget: give --fleet <name>');
    if (budget && o.fleet !== undefined) await setFleetBudget(config, o.fleet, budget);
    // A live source ingests for as long as it runs: it is observed like the roles.
    const seen = await observeProcess(config, 'ingest');
    abortOnSignals(abort, seen.log);
    try {
      const s = await ingestSource(config, { source, streamId: o.streamId, lockstep: o.lockstep, ...streamRequestOf(o) }, { signal: abort.signal, log: seen.log, metrics: seen.metrics, onRuntime: (rt) => seen.attach(rt) });
      seen.log(`ingest: stream ${s.streamId} done, ${s.segments} segments`, { stream: s.streamId });
    } finally {
      await seen.close();
    }
  });

  const enqueue = program
    .command('enqueue')
    .description('archived footage → one stream per video, processed by `up`/`ingest` roles')
    .argument('<inputs...>', 'video files, folders, or s3://bucket/prefix')
    .option('--wait', 'wait until every stream is processed, with live progress and a per-stream summary');
  streamOptions(enqueue, { auditEvery: 0, maxSegments: false }).action(async (inputs: string[], o: StreamFlags & { wait?: boolean }) => {
    const budget = fleetBudgetOf(o);
    if (budget && o.fleet === undefined) throw new Error('--budget-kbps and --budget-gpu-fps set a fleet\'s budget: give --fleet <name>');
    const rt = await createRuntime(loadConfig());
    try {
      if (budget && o.fleet !== undefined) await new FleetRegister(rt.redis, rt.config.queuePrefix).setBudget(o.fleet, budget);
      const streams = await enqueueArchives(rt, inputs, { ...streamRequestOf(o), log });
      if (!o.wait) return;
      const view = streamsProgress('enqueue');
      let p = await archiveProgress(rt, streams);
      while (p.finished < streams.length) {
        view.update(p);
        await new Promise((r) => setTimeout(r, 1000));
        p = await archiveProgress(rt, streams, p);
      }
      view.update(p);
      view.stop();
      for (const f of p.failed) log(`enqueue: stream ${f.streamId} failed: ${f.reason}`);
      const reports = await archiveReports(rt, streams);
      if (reports.length > 0) console.log(summaryTable(reports));
      log(`enqueue: ${streams.length - p.failed.length} of ${streams.length} streams processed`);
      if (p.failed.length > 0) process.exitCode = 1;
    } finally {
      await rt.close();
    }
  });
}
