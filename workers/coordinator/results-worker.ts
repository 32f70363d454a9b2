import { Worker, type ConnectionOptions } from 'bullmq';
import { jobPayload, toJobError } from '../../src/queue/job-payload.js';
import { RESULT_QUEUE } from '../../src/queue/names.js';
import { resultJobSchema } from '../../src/records/segment-result.js';
import type { Coordinator } from './coordinator.js';

export function startCoordinatorWorker(opts: { connection: ConnectionOptions; prefix: string; coordinator: Coordinator; log?: (line: string) => void }): Worker {
  // One result at a time per process; the Redis fence keeps several coordinators correct too.
  const worker = new Worker(
    RESULT_QUEUE,
    async (job) => {
      const result = jobPayload(resultJobSchema, job.data, 'result');
      return opts.coordinator.handle(result).catch((err: unknown) => {
        throw toJobError(err);
      });
    },
    { connection: opts.connection, prefix: opts.prefix, concurrency: 1 },
  );
  worker.on('error', (err) => opts.log?.(`coordinator: ${err.message}`));
  return worker;
}
