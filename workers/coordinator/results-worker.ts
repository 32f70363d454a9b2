import { Worker, type ConnectionOptions } from 'bullmq';
import { workerTimingOptions, type WorkerTimings } from '../../src/queue/worker-timings.js';
import { jobPayload, toJobError } from '../../src/queue/job-payload.js';
import { RESULT_QUEUE } from '../../src/queue/names.js';
import { PayloadError, parsePayload } from '../../src/records/parse.js';
import { attributionOf, segmentFailureSchema } from '../../src/records/segment-failure.js';
import { resultJobSchema } from '../../src/records/segment-result.js';
import type { Coordinator } from './coordinator.js';
import type { Log } from '../../src/log.js';

/** What a results job carries: a result, a failure, or a payload that is bad but says whose it is. */
async function consume(coordinator: Coordinator, data: unknown): Promise<string> {
  if (segmentFailureSchema.safeParse(data).success && !resultJobSchema.safeParse(data).success) {
    return coordinator.handleFailure(segmentFailureSchema.parse(data));
  }
  try {
    return await coordinator.handle(parsePayload(resultJobSchema, data, 'result payload'));
  } catch (err) {
    // A result that cannot be used still closes its segment, or its stream would wait for it.
    if (!(err instanceof PayloadError)) throw err;
    const whose = attributionOf(data);
    if (!whose) throw err;
    await coordinator.handleFailure({ ...whose, error: err.message });
    throw err;
  }
}

export function startCoordinatorWorker(opts: { connection: ConnectionOptions; prefix: string; queue?: string; coordinator: Coordinator; timings: WorkerTimings; log?: Log }): Worker {
  // One result at a time per process; the Redis fence keeps several coordinators correct too.
  const worker = new Worker(
    // The runtime's name (hash-tagged on a Redis Cluster) when given.
    opts.queue ?? RESULT_QUEUE,
    async (job) => {
      const data = job.data as unknown;
      // Neither a result nor attributable: nothing to record, the job fails with the reason.
      if (!attributionOf(data)) jobPayload(resultJobSchema, data, 'result');
      return consume(opts.coordinator, data).catch((err: unknown) => {
        throw toJobError(err);
      });
    },
    { connection: opts.connection, prefix: opts.prefix, concurrency: 1, ...workerTimingOptions(opts.timings) },
  );
  worker.on('error', (err) => opts.log?.(`coordinator: ${err.message}`, { level: 'error' }));
  return worker;
}
