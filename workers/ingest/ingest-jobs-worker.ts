import { DelayedError, Worker, type ConnectionOptions } from 'bullmq';
import { workerTimingOptions, type WorkerTimings } from '../../src/queue/worker-timings.js';
import { jobPayload, toJobError } from '../../src/queue/job-payload.js';
import { INGEST_QUEUE } from '../../src/queue/names.js';
import { ingestJobSchema } from '../../src/records/ingest-job.js';
import { processIngestJob, type IngestJobDeps } from './archive-job.js';
import { IngestStoppedError } from './ingest.js';

/** The archive role's worker, and how to stop it without waiting for whole archives. */
export interface IngestJobWorker {
  worker: Worker;
  /**
   * Stops the ingests in flight after their current segment and puts their jobs back (delayed,
   * no attempt spent): a restarted ingest role resumes each stream where it stopped.
   */
  drain(): void;
}

export function startIngestJobWorker(opts: { connection: ConnectionOptions; prefix: string; queue?: string; concurrency: number; timings: WorkerTimings; deps: IngestJobDeps }): IngestJobWorker {
  const draining = new AbortController();
  const worker = new Worker(
    // The runtime's name (hash-tagged on a Redis Cluster) when given.
    opts.queue ?? INGEST_QUEUE,
    async (bullJob, token) => {
      const job = jobPayload(ingestJobSchema, bullJob.data, 'ingest');
      try {
        return await processIngestJob(opts.deps, job, draining.signal);
      } catch (err) {
        if (err instanceof IngestStoppedError && token) {
          await bullJob.moveToDelayed(Date.now() + 1000, token);
          throw new DelayedError();
        }
        // Unreadable files and bad policies will not get better on retry.
        throw toJobError(err);
      }
    },
    // An archived stream holds its job for its whole length: the lock is renewed while it runs.
    { connection: opts.connection, prefix: opts.prefix, concurrency: opts.concurrency, ...workerTimingOptions(opts.timings) },
  );
  worker.on('error', (err) => opts.deps.log?.(`ingest worker: ${err.message}`, { level: 'error' }));
  return { worker, drain: () => draining.abort() };
}
