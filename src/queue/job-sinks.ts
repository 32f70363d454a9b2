import type { Queue } from 'bullmq';
import type { IngestJob } from '../records/ingest-job.js';
import type { SegmentFailure } from '../records/segment-failure.js';
import type { ResultJob } from '../records/segment-result.js';
import type { SegmentJob } from '../records/segment-job.js';
import { ingestJobId, resultJobId, segmentJobId } from './names.js';

/** Where a role hands a record to the next one; role logic sees this, not BullMQ. */
export interface JobSink<T> {
  add(job: T): Promise<void>;
}

// Deterministic job ids: a re-delivered segment or result is one job, not two.

/** A segment job added again with other content: BullMQ would keep the old one silently. */
export class DuplicateSegmentError extends Error {
  override name = 'DuplicateSegmentError';
}

/** The fields that make two adds of one segment the same add (a retried add is fine). */
const sameSegment = (a: SegmentJob, b: SegmentJob) => a.segmentKey === b.segmentKey && a.knobVersion === b.knobVersion && a.bytes === b.bytes && a.slots === b.slots;

export function segmentSink(queue: Queue): JobSink<SegmentJob> {
  return {
    add: async (job) => {
      const id = segmentJobId(job.streamId, job.seq);
      const existing = await queue.getJob(id);
      if (existing) {
        if (sameSegment(existing.data as SegmentJob, job)) return;
        const was = existing.data as SegmentJob;
        throw new DuplicateSegmentError(`segment ${job.streamId}#${job.seq} is already queued with other content (knob version ${was.knobVersion}, ${was.bytes} bytes; now ${job.knobVersion}, ${job.bytes} bytes)`);
      }
      await queue.add('segment', job, { jobId: id });
    },
  };
}

export function resultSink(queue: Queue): JobSink<ResultJob> {
  return { add: async (job) => void (await queue.add('result', job, { jobId: resultJobId(job.streamId, job.seq) })) };
}

export function ingestSink(queue: Queue): JobSink<IngestJob> {
  return { add: async (job) => void (await queue.add('ingest', job, { jobId: ingestJobId(job.streamId) })) };
}

/** A failure goes where the segment's result would have: the same job id, so one of the two wins. */
export function failureSink(queue: Queue): JobSink<SegmentFailure> {
  return { add: async (job) => void (await queue.add('failure', job, { jobId: resultJobId(job.streamId, job.seq) })) };
}
