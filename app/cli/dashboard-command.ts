import type { Command } from 'commander';
import { loadConfig } from '../../src/config/config.js';
import { checkDashboardBind } from '../dashboard/auth.js';
import { startDashboard } from '../dashboard/server.js';
import { dashboardSettings, parsePort } from '../dashboard/settings.js';
import { createLogger } from '../logging.js';
import { createRuntime } from '../runtime.js';
import { closeOnSignals } from '../signals.js';

const DEFAULT_PORT = 8080;

export function registerDashboardCommand(program: Command): void {
  program
    .command('dashboard')
    .description('web dashboard: streams, their knobs and timelines, the queues (with retries), a bench folder')
    .option('--port <port>', `port to serve on (default: ONEADAPT_DASHBOARD_PORT, else ${DEFAULT_PORT})`, (v: string) => parsePort(v, '--port'))
    .option('--host <host>', 'address to bind (default: ONEADAPT_DASHBOARD_HOST, else 127.0.0.1); any other than loopback needs ONEADAPT_DASHBOARD_TOKEN')
    .option('--bench <dir>', 'also show this bench --out folder (without Redis configured: only it)')
    .action(async (o: { port?: number; host?: string; bench?: string }) => {
      const settings = dashboardSettings();
      const config = loadConfig();
      const { log } = createLogger({ role: 'dashboard', format: config.logging.format, level: config.logging.level });
      const host = o.host ?? settings.host;
      checkDashboardBind(host, settings.token);
      // A bench folder alone needs no Redis; anything live does (and says so when it is missing).
      const rt = o.bench && !config.redisUrl && !config.redisCluster ? undefined : await createRuntime(config);
      try {
        const dashboard = await startDashboard({
          host,
          port: o.port ?? settings.port ?? DEFAULT_PORT,
          token: settings.token,
          source: rt,
          benchDir: o.bench,
          log,
        });
        closeOnSignals(async () => {
          await dashboard.close();
          await rt?.close();
        }, log);
      } catch (err) {
        await rt?.close();
        throw err;
      }
      await new Promise(() => undefined);
    });
}
