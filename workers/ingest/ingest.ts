import { encodeSettings, encodedKnobs, frameAuditSettings } from '../../src/knobs/encode.js';
import { referenceSetting } from '../../src/knobs/space.js';
import type { MediaPort, RawFrame } from '../../src/media/types.js';
import { randomUUID } from 'node:crypto';
import { isUrl } from '../../src/media/media-info.js';
import type { JobSink } from '../../src/queue/job-sinks.js';
import type { SegmentJob } from '../../src/records/segment-job.js';
import { IngestFencedError, type StreamRegister } from '../../src/queue/stream-register.js';
import { auditKey, frameAuditKey, probeKey, segmentKey } from '../../src/storage/keys.js';
import { keptSlot } from '../../src/knobs/kept-frames.js';
import type { ObjectStore } from '../../src/storage/types.js';
import { computeProbe } from './compute-probe.js';
import type { IngestPlan } from './stream-options.js';
import type { Log } from '../../src/log.js';

export interface IngestDeps {
  media: MediaPort;
  store: ObjectStore;
  streams: StreamRegister;
  segments: JobSink<SegmentJob>;
  log?: Log;
}

/**
 * The ingest was told to stop (SIGTERM, a draining worker) before the source ended: the stream
 * is not finished, so its total is not set, and a restart resumes where this one stopped.
 */
export class IngestStoppedError extends Error {
  override name = 'IngestStoppedError';
}

/** How one ingest run behaves beyond its plan. */
export interface IngestRunOptions {
  /** Re-measure the reference encode's size every N probes (it normalises bandwidth). */
  refEvery?: number;
  signal?: AbortSignal;
}

export interface IngestSummary {
  segments: number;
  encodeMs: number;
  probeMs: number;
  bytes: number;
}

/**
 * The ingest role for one stream: cut the source into segments, encode each with the
 * knobs the stream has when the segment is claimed, upload, enqueue. Raw frames stay here.
 */
export async function runIngest(deps: IngestDeps, plan: IngestPlan, run: IngestRunOptions = {}): Promise<IngestSummary> {
  const opts = { ...plan, ...run };
  const slots = Math.max(1, Math.round(opts.segmentSeconds * opts.analysisFps));
  const reference = encodedKnobs(referenceSetting(opts.spaces), opts.sourceWidth, opts.sourceHeight);
  const summary: IngestSummary = { segments: 0, encodeMs: 0, bytes: 0, probeMs: 0 };
  let refBytes: number | undefined;
  let probes = 0;
  // This ingest owns the stream from now on; one that ran before (a zombie after a lost lock,
  // or the process this one replaces) is fenced at its next claim. A restart resumes after
  // the last segment whose job is queued: those are analysed or on their way, never redone.
  const owner = randomUUID();
  const resumeAt = await deps.streams.takeOwnership(opts.streamId, owner);
  if (resumeAt > 0) deps.log?.(`ingest ${opts.streamId}: resuming at segment ${resumeAt}`, { stream: opts.streamId, seq: resumeAt });

  const emit = async (seq: number, frames: RawFrame[]): Promise<void> => {
    if (opts.lockstep && seq > 0) await deps.streams.waitConsumed(opts.streamId, seq - 1, { timeoutMs: opts.resultTimeoutMs, signal: opts.signal });
    const update = await deps.streams.claim(opts.streamId, seq, owner);
    const k = update.knobs;
    const encoded = await deps.media.encodeFrames(frames, opts.analysisFps, encodeSettings(k, opts.sourceWidth, opts.sourceHeight));
    const key = segmentKey(opts.streamId, seq);
    await deps.store.put(key, encoded.data, 'video/mp4');
    let probe: { key: string; ms: number } | undefined;
    const probeEvery = opts.probeEvery;
    // A partial last segment is not probed: its byte counts would not compare with the others.
    if (probeEvery > 0 && seq % probeEvery === 0 && frames.length === slots) {
      if (probes % (opts.refEvery ?? 10) === 0) refBytes = undefined;
      const r = await computeProbe(deps.media, {
        seq,
        frames,
        inputFps: opts.analysisFps,
        current: k,
        currentData: encoded.data,
        spaces: opts.spaces,
        sourceWidth: opts.sourceWidth,
        sourceHeight: opts.sourceHeight,
        refBytes,
        analysisSize: opts.analysisSize,
        knobs: opts.probeKnobs,
        withReference: opts.probeReference,
      });
      refBytes = r.probe.refBytes;
      probes++;
      probe = { key: probeKey(opts.streamId, seq), ms: r.ms };
      await deps.store.put(probe.key, JSON.stringify(r.probe), 'application/json');
      summary.probeMs += r.ms;
    }
    let audit: { key: string; bytes: number } | undefined;
    if (opts.auditEvery > 0 && seq % opts.auditEvery === 0) {
      const ref = await deps.media.encodeFrames(frames, opts.analysisFps, {
        qp: reference.qp,
        width: reference.width,
        height: reference.height,
        fps: opts.analysisFps,
      });
      audit = { key: auditKey(opts.streamId, seq), bytes: ref.data.length };
      await deps.store.put(audit.key, ref.data, 'video/mp4');
    }
    const segmentFrames = Math.max(1, Math.round((frames.length * k.fps) / opts.analysisFps));
    // The policy's audit re-sends the frame the worker samples (the segment's last kept one).
    let frameAudit: { key: string; bytes: number; slot: number } | undefined;
    if (k.audit === true && frames.length === slots) {
      const slot = keptSlot(segmentFrames - 1, segmentFrames, slots);
      const ref = await deps.media.encodeFrames([frames[slot]], opts.analysisFps, frameAuditSettings(opts.spaces, opts.analysisSize, opts.analysisFps));
      frameAudit = { key: frameAuditKey(opts.streamId, seq), bytes: ref.data.length, slot };
      await deps.store.put(frameAudit.key, ref.data, 'video/mp4');
    }
    const job: SegmentJob = {
      streamId: opts.streamId,
      seq,
      segmentKey: key,
      auditKey: audit?.key,
      auditBytes: audit?.bytes,
      frameAuditKey: frameAudit?.key,
      frameAuditBytes: frameAudit?.bytes,
      frameAuditSlot: frameAudit?.slot,
      probeKey: probe?.key,
      knobs: k,
      knobVersion: update.version,
      sourceWidth: opts.sourceWidth,
      sourceHeight: opts.sourceHeight,
      slots: frames.length,
      frames: segmentFrames,
      bytes: encoded.data.length,
      encodeMs: encoded.ms,
      probeMs: probe?.ms ?? 0,
    };
    await deps.segments.add(job);
    if (!(await deps.streams.markEnqueued(opts.streamId, seq, owner))) throw new IngestFencedError(`stream "${opts.streamId}": another ingest took it over after segment ${seq}`);
    summary.segments++;
    summary.encodeMs += encoded.ms;
    summary.bytes += encoded.data.length + (frameAudit?.bytes ?? 0);
  };

  let buffer: RawFrame[] = [];
  let seq = resumeAt;
  // A file is read from where the resumed segment starts; a live source is read from now on.
  const startS = isUrl(opts.source) ? 0 : resumeAt * opts.segmentSeconds;
  const stopped = () => new IngestStoppedError(`ingest ${opts.streamId}: stopped before segment ${seq}; a restart resumes there`);
  try {
    for await (const frame of deps.media.readFrames(opts.source, { fps: opts.analysisFps, ...(startS > 0 ? { startS } : {}) })) {
      // Stopping drains the segment in flight (it is queued whole) and cuts no other.
      if (opts.signal?.aborted) throw stopped();
      buffer.push(frame);
      if (buffer.length === slots) {
        await emit(seq++, buffer);
        buffer = [];
        if (opts.maxSegments !== undefined && seq >= opts.maxSegments) break;
      }
    }
    if (opts.signal?.aborted) throw stopped();
    if (buffer.length > 0 && (opts.maxSegments === undefined || seq < opts.maxSegments)) await emit(seq++, buffer);
  } catch (err) {
    // A lockstep wait cut short by the stop, or the stop itself: not the end of the source.
    if (opts.signal?.aborted && !(err instanceof IngestStoppedError)) throw stopped();
    throw err;
  }
  await deps.streams.setTotalSegments(opts.streamId, seq);
  deps.log?.(`ingest ${opts.streamId}: ${seq} segments, ${(summary.bytes / 1024).toFixed(0)} KiB`, { stream: opts.streamId });
  return summary;
}
