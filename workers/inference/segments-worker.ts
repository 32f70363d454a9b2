import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { workerTimingOptions, type WorkerTimings } from '../../src/queue/worker-timings.js';
import { isPermanent } from '../../src/errors.js';
import { jobPayload } from '../../src/queue/job-payload.js';
import type { JobSink } from '../../src/queue/job-sinks.js';
import { SEGMENT_QUEUE } from '../../src/queue/names.js';
import { segmentJobSchema, type SegmentJob } from '../../src/records/segment-job.js';
import { PayloadError } from '../../src/records/parse.js';
import { auditKey, probeKey, segmentKey } from '../../src/storage/keys.js';
import { attributionOf, type SegmentFailure } from '../../src/records/segment-failure.js';
import { fromSegmentJob, type ResultJob } from '../../src/records/segment-result.js';
import type { SegmentProcessor } from './segment-processor.js';
import type { Log } from '../../src/log.js';

export interface InferenceWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  /** The queue's BullMQ name (the runtime's, hash-tagged on a Redis Cluster); default `segments`. */
  queue?: string;
  concurrency: number;
  timings: WorkerTimings;
  processor: SegmentProcessor;
  results: JobSink<ResultJob>;
  /** Where a segment job that failed without a usable payload is reported (attributable ones). */
  failures: JobSink<SegmentFailure>;
  log?: Log;
}

function failedResult(job: SegmentJob, reason: string): ResultJob {
  return { ...fromSegmentJob(job), frames: 0, detections: 0, proxy: 0, decodeMs: 0, inferMs: 0, gradMs: 0, f1: null, error: reason };
}

/**
 * The BullMQ side of the inference worker. A bad segment (a permanent error) fails only its
 * own job, with the reason kept on the job, and still reports to the coordinator so the
 * stream goes on; other errors are retried.
 */
/** A payload's object keys are the ones its stream and seq give: a job reads only its own segment. */
function assertDerivedKeys(job: SegmentJob): void {
  const expected = { segmentKey: segmentKey(job.streamId, job.seq), auditKey: auditKey(job.streamId, job.seq), probeKey: probeKey(job.streamId, job.seq) };
  for (const field of ['segmentKey', 'auditKey', 'probeKey'] as const) {
    const got = job[field];
    if (got !== undefined && got !== expected[field]) throw new PayloadError(`invalid segment payload: ${field} must be ${expected[field]} for ${job.streamId}#${job.seq}, got ${JSON.stringify(got)}`);
  }
}

export function startInferenceWorker(opts: InferenceWorkerOptions): Worker {
  const worker = new Worker(
    opts.queue ?? SEGMENT_QUEUE,
    async (bullJob) => {
      const job = jobPayload(segmentJobSchema, bullJob.data, 'segment');
      try {
        assertDerivedKeys(job);
        const result = await opts.processor.process(job);
        await opts.results.add(result);
        return { frames: result.frames, detections: result.detections, f1: result.f1 };
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        if (isPermanent(err)) {
          opts.log?.(`segment ${job.streamId}#${job.seq} failed: ${reason}`, { stream: job.streamId, seq: job.seq, jobId: bullJob.id, level: 'warn' });
          await opts.results.add(failedResult(job, reason));
          throw new UnrecoverableError(reason);
        }
        // The machine failed; on the last attempt the stream still hears of it.
        const attempts = bullJob.opts.attempts ?? 1;
        if (bullJob.attemptsMade + 1 >= attempts) await opts.results.add(failedResult(job, `gave up after ${attempts} attempt(s): ${reason}`));
        throw err;
      }
    },
    { connection: opts.connection, prefix: opts.prefix, concurrency: opts.concurrency, ...workerTimingOptions(opts.timings) },
  );
  worker.on('error', (err) => opts.log?.(`inference worker: ${err.message}`, { level: 'error' }));
  // Jobs that fail without reaching the catch above (an invalid payload, a job that stalled
  // too often and is failed unrun) still close their segment, when the payload says whose it is.
  worker.on('failed', (bullJob, err) => {
    if (!bullJob) return;
    reportFailed(opts, bullJob, err.message).catch((e: unknown) => opts.log?.(`inference worker: could not report ${bullJob.id}: ${e instanceof Error ? e.message : String(e)}`, { jobId: bullJob.id, level: 'error' }));
  });
  return worker;
}

async function reportFailed(opts: InferenceWorkerOptions, bullJob: Job, reason: string): Promise<void> {
  if (!(await bullJob.isFailed())) return; // retried later
  const job = segmentJobSchema.safeParse(bullJob.data);
  if (job.success) return opts.results.add(failedResult(job.data, reason));
  const whose = attributionOf(bullJob.data);
  if (whose) await opts.failures.add({ ...whose, error: reason });
}
