import { segmentJobId } from '../src/queue/names.js';
import { WaitTimeoutError } from '../src/queue/stream-register.js';
import type { Runtime } from './runtime.js';

/** A stream stopped producing results: which segments have none, and what their jobs say. */
export class StreamStalledError extends Error {
  override name = 'StreamStalledError';
}

/**
 * Waits until the stream has `total` report rows, as long as each new row comes within
 * `timeoutMs` of the one before (a slow stream is fine, a stuck one is reported).
 */
export async function waitForRows(rt: Runtime, streamId: string, total: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  for (;;) {
    const have = await rt.streams.rowCount(streamId);
    if (have >= total) return;
    try {
      await rt.streams.waitRows(streamId, have + 1, { timeoutMs, signal });
    } catch (err) {
      if (!(err instanceof WaitTimeoutError)) throw err;
      throw new StreamStalledError(await stallReport(rt, streamId, total, timeoutMs), { cause: err });
    }
  }
}

/** The segments without a row (the first few) and the state of each one's job, with its reason. */
export async function stallReport(rt: Runtime, streamId: string, total: number, timeoutMs: number): Promise<string> {
  const done = new Set((await rt.streams.rows(streamId)).map((r) => r.seq));
  const missing = Array.from({ length: total }, (_, seq) => seq).filter((seq) => !done.has(seq));
  const shown = await Promise.all(
    missing.slice(0, 5).map(async (seq) => {
      const job = await rt.queues.segments.getJob(segmentJobId(streamId, seq));
      if (!job) return `segment ${seq}: no job`;
      const state = await job.getState();
      return `segment ${seq}: ${state}${job.failedReason ? ` (${job.failedReason})` : ''}`;
    }),
  );
  const more = missing.length > shown.length ? `; ${missing.length - shown.length} more` : '';
  return `stream "${streamId}": no new result within ${timeoutMs} ms, ${missing.length} of ${total} segments have none — ${shown.join('; ')}${more} (ONEADAPT_RESULT_TIMEOUT_MS sets the wait)`;
}
