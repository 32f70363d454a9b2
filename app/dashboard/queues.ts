import type { Queue } from 'bullmq';
import { STREAM_ID_PATTERN } from '../../src/records/stream-id.js';
import { redactUrls } from '../../src/redact.js';

/** The queues a dashboard shows, by their plain names (hash-tagged on a cluster, not here). */
export const QUEUE_NAMES = ['segments', 'results', 'ingest'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];
export type DashboardQueues = Record<QueueName, Queue>;

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'] as const;

/** Failed jobs listed per queue, newest first. */
const FAILED_SHOWN = 20;

export interface FailedJobView {
  id: string;
  name: string;
  streamId: string | null;
  seq: number | null;
  reason: string;
  attempts: number;
  failedAt: number | null;
}

export interface QueueSnapshot {
  name: QueueName;
  counts: Record<(typeof STATES)[number], number>;
  failed: FailedJobView[];
}

/**
 * Job counts by state and the newest failed jobs with their reasons. Of a job's payload only
 * the stream and segment are shown: payloads hold object keys and sources, nothing an operator
 * needs here.
 */
export async function queueSnapshot(queues: DashboardQueues): Promise<QueueSnapshot[]> {
  return Promise.all(
    QUEUE_NAMES.map(async (name) => {
      const q = queues[name];
      const [raw, failed] = await Promise.all([q.getJobCounts(...STATES), q.getFailed(0, FAILED_SHOWN - 1)]);
      const counts = Object.fromEntries(STATES.map((s) => [s, raw[s] ?? 0])) as QueueSnapshot['counts'];
      return {
        name,
        counts,
        // A job removed between the listing and its read comes back undefined.
        failed: failed.filter((j) => j !== undefined && j.id !== undefined).map((j) => {
          const data = (j.data ?? {}) as { streamId?: unknown; seq?: unknown };
          return {
            id: String(j.id),
            name: j.name,
            streamId: typeof data.streamId === 'string' && STREAM_ID_PATTERN.test(data.streamId) ? data.streamId : null,
            seq: typeof data.seq === 'number' && Number.isSafeInteger(data.seq) ? data.seq : null,
            reason: redactUrls(j.failedReason ?? ''),
            attempts: j.attemptsMade,
            failedAt: j.finishedOn ?? null,
          };
        }),
      };
    }),
  );
}

export function isQueueName(name: string): name is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(name);
}

export type RetryOutcome = { ok: true; state: string } | { ok: false; status: 404 | 409; error: string };

/** Moves a failed job back to waiting (BullMQ's retry: its attempts start over from its options). */
export async function retryFailedJob(queues: DashboardQueues, name: QueueName, id: string): Promise<RetryOutcome> {
  const job = await queues[name].getJob(id);
  if (!job) return { ok: false, status: 404, error: `no job ${JSON.stringify(id)} in queue ${name}` };
  const state = await job.getState();
  if (state !== 'failed') return { ok: false, status: 409, error: `job ${JSON.stringify(id)} is ${state}, not failed: only failed jobs are retried` };
  await job.retry('failed', { resetAttemptsMade: true });
  return { ok: true, state: await job.getState() };
}
