import type { WorkerOptions } from 'bullmq';

/** How BullMQ workers hold and recover jobs (see Config.queueTimings). */
export interface WorkerTimings {
  lockMs: number;
  stalledIntervalMs: number;
  maxStalled: number;
}

/** The worker options every role's adapter sets from the configured timings. */
export function workerTimingOptions(t: WorkerTimings): Pick<WorkerOptions, 'lockDuration' | 'stalledInterval' | 'maxStalledCount'> {
  return { lockDuration: t.lockMs, stalledInterval: t.stalledIntervalMs, maxStalledCount: t.maxStalled };
}
