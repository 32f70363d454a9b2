import { Worker, type ConnectionOptions } from 'bullmq';
import { workerTimingOptions, type WorkerTimings } from '../../src/queue/worker-timings.js';
import { jobPayload, toJobError } from '../../src/queue/job-payload.js';
import { INGEST_QUEUE } from '../../src/queue/names.js';
import { ingestJobSchema } from '../../src/records/ingest-job.js';
import { processIngestJob, type IngestJobDeps } from './archive-job.js';

export function startIngestJobWorker(opts: { connection: ConnectionOptions; prefix: string; concurrency: number; timings: WorkerTimings; deps: IngestJobDeps }): Worker {
  const worker = new Worker(
    INGEST_QUEUE,
    async (bullJob) => {
      const job = jobPayload(ingestJobSchema, bullJob.data, 'ingest');
      try {
        return await processIngestJob(opts.deps, job);
      } catch (err) {
        // Unreadable files and bad policies will not get better on retry.
        throw toJobError(err);
      }
    },
    // An archived stream holds its job for its whole length: the lock is renewed while it runs.
    { connection: opts.connection, prefix: opts.prefix, concurrency: opts.concurrency, ...workerTimingOptions(opts.timings) },
  );
  worker.on('error', (err) => opts.deps.log?.(`ingest worker: ${err.message}`));
  return worker;
}
