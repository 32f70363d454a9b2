import type { Log } from '../../src/log.js';
import type { DashboardSource } from './event-feed.js';
import { startDashboard, type Dashboard, type DashboardOptions } from './server.js';

/**
 * A dashboard for a job that builds its runtime itself (`run`: once its services are up). A
 * dashboard that cannot start is a warning: the job is the point, the dashboard a view of it.
 */
export class AttachedDashboard {
  private started: Promise<Dashboard | undefined> | undefined;

  constructor(private readonly opts: Omit<DashboardOptions, 'source'> & { log: Log }) {}

  attach(source: DashboardSource): void {
    this.started ??= startDashboard({ ...this.opts, source }).catch((err: unknown) => {
      this.opts.log(`dashboard: not started: ${(err as Error).message}`, { level: 'warn' });
      return undefined;
    });
  }

  /** The running dashboard, once attach() started it; undefined when it could not start. */
  async ready(): Promise<Dashboard | undefined> {
    return this.started;
  }

  /** Keeps serving `seconds` more (the job is over), or until `signal` aborts. */
  async linger(seconds: number, signal?: AbortSignal): Promise<void> {
    const d = await this.started;
    if (!d || seconds <= 0 || signal?.aborted) return;
    this.opts.log(`dashboard: the run is over; ${d.url} stays up ${seconds} s (Ctrl-C ends it)`);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, seconds * 1000);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  async close(): Promise<void> {
    await (await this.started)?.close();
  }
}
