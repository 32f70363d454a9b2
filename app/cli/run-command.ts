import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { runVideos } from '../run-job.js';
import { loadConfig } from '../../src/config/config.js';
import { abortOnSignals } from '../signals.js';
import { randomBytes } from 'node:crypto';
import { countOption, fleetBudgetOf, streamOptions, streamRequestOf, type StreamFlags } from './options.js';
import { summaryTable, type Report } from '../../src/report/report.js';
import { progressBar } from './progress.js';
import { observeProcess } from '../observability.js';
import { AttachedDashboard } from '../dashboard/attached.js';
import { checkDashboardBind } from '../dashboard/auth.js';
import { dashboardSettings, parsePort } from '../dashboard/settings.js';

export function registerRunCommand(program: Command): void {
  const run = program
    .command('run')
    .description('run videos through the full pipeline (ingest → S3 → BullMQ → worker → coordinator) and report')
    .argument('<videos...>', 'video files or live URLs; each becomes a stream')
    .option('--report <file>', 'write the JSON report here')
    .option('--no-lockstep', 'do not wait for each update before cutting the next segment (live behaviour)')
    .option('--dashboard <port>', 'serve the dashboard on this port while the run lasts (bound to ONEADAPT_DASHBOARD_HOST, default 127.0.0.1)', (v: string) => parsePort(v, '--dashboard'))
    .option('--dashboard-linger <s>', 'keep the run\'s services and dashboard up this many seconds after it ends', countOption('--dashboard-linger', 0), 0);
  streamOptions(run, { auditEvery: 1, maxSegments: true }).action(async (videos: string[], o: StreamFlags & { report?: string; lockstep: boolean; dashboard?: number; dashboardLinger: number }) => {
    const config = loadConfig();
    const settings = dashboardSettings();
    if (o.dashboard !== undefined) checkDashboardBind(settings.host, settings.token);
    const seen = await observeProcess(config, 'run');
    const bar = progressBar('run');
    let barStopped = false;
    const stopBar = () => {
      if (!barStopped) bar.stop();
      barStopped = true;
    };
    const abort = new AbortController();
    abortOnSignals(abort, (l) => seen.log(l));
    const dashboard = o.dashboard === undefined ? undefined : new AttachedDashboard({ host: settings.host, port: o.dashboard, token: settings.token, metrics: seen.metrics, log: seen.log });
    let shown = false;
    const show = async (reports: Report[]) => {
      if (shown) return;
      shown = true;
      stopBar();
      console.log(summaryTable(reports));
      if (o.report) {
        await writeFile(o.report, JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + '\n');
        console.log(`report written to ${o.report}`);
      }
    };
    const reports = await runVideos(config, {
      videos,
      signal: abort.signal,
      // A budget without a fleet name makes the run's streams one fleet of their own.
      ...streamRequestOf({ ...o, fleet: o.fleet ?? (fleetBudgetOf(o) ? `run-${randomBytes(3).toString('hex')}` : undefined) }),
      fleetBudget: fleetBudgetOf(o),
      lockstep: o.lockstep,
      log: seen.log,
      metrics: seen.metrics,
      onRuntime: (rt) => {
        seen.attach(rt);
        dashboard?.attach(rt);
      },
      onProgress: (d, t) => bar.update(d, t),
      // Lingering: the table and report first, then the run's services stay up a while.
      holdOpen:
        dashboard && o.dashboardLinger > 0
          ? async (r) => {
              await show(r);
              await dashboard.linger(o.dashboardLinger, abort.signal);
            }
          : undefined,
    }).finally(async () => {
      stopBar();
      await dashboard?.close();
      await seen.close();
    });
    await show(reports);
  });
}
