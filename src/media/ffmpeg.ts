import { constants } from 'node:fs';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import ffmpeg, { type FfmpegCommand } from 'fluent-ffmpeg';
import { decodeAndScale, decodeMany, encodeMany, scaleFrames } from './batch.js';
import { encodeFilterChain, fpsFilter, hasRegions, resampledFrameCount, scaleFilter, segmentCodecOptions, targetSize } from './filters.js';
import { FfmpegError, QUIET, UndecodableSegmentError, effectiveTimeout, runToCompletion, startStreaming } from './ffmpeg-run.js';
import { isUrl, probeVideo, UnreadableVideoError } from './media-info.js';
import { commonFrameSize, RawFrameSplitter, rgb24FrameBytes } from './raw-frames.js';
import type { EncodeSettings, EncodedSegment, MediaPort, RawFrame } from './types.js';
import { withTempDir } from './temp-dir.js';

export interface FfmpegMediaOptions {
  /** Defaults to fluent-ffmpeg's lookup: FFMPEG_PATH, then PATH. */
  ffmpegPath?: string;
  /** Defaults to FFPROBE_PATH, then PATH. */
  ffprobePath?: string;
  /**
   * Limit on one ffmpeg/ffprobe run over segments (encodes, batched decodes, segment decodes,
   * probes), after which the process is SIGKILLed and the call rejects with
   * FfmpegUnavailableError (ONEADAPT_FFMPEG_TIMEOUT_MS); default DEFAULT_FFMPEG_TIMEOUT_MS, 0: none.
   * Not applied to readFrames, which lasts as long as its source.
   */
  timeoutMs?: number;
  /**
   * readFrames of a network source fails when no data arrives for this long (ffmpeg's
   * `-rw_timeout`); default DEFAULT_STALL_TIMEOUT_MS, 0: none.
   */
  stallTimeoutMs?: number;
}

/** A live camera or HTTP source that sends nothing for 30 s has dropped, not paused. */
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;

/**
 * Schemes whose protocol honours `-rw_timeout` (a silent HTTP server fails the read after it).
 * Not rtsp: its demuxer opens its own sockets, which the option does not reach (a silent rtsp
 * server still hangs ffmpeg 5.1), and rtsp's own `-timeout` meant a listen timeout before ffmpeg 5.
 */
const RW_TIMEOUT_SCHEMES = /^(https?|tcp|tls|udp|rtmp[est]*|srt):\/\//i;

/** Input options that make a stalled network read fail instead of waiting forever. */
export function stallOptions(source: string, stallTimeoutMs: number | undefined): string[] {
  const ms = stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  if (!(ms > 0) || !isUrl(source) || !RW_TIMEOUT_SCHEMES.test(source)) return [];
  return ['-rw_timeout', String(Math.round(ms * 1000))];
}


function* frameBytes(frames: readonly RawFrame[]): Generator<Buffer> {
  for (const frame of frames) yield Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
}

function assertEncodeSettings(inputFps: number, s: EncodeSettings): void {
  if (!(inputFps > 0)) throw new Error(`inputFps must be positive, got ${inputFps}`);
  if (!Number.isInteger(s.qp) || s.qp < 0 || s.qp > 51) throw new Error(`qp must be an integer in 0..51, got ${s.qp}`);
  for (const [name, value] of [['width', s.width], ['height', s.height]] as const) {
    if (!Number.isInteger(value) || value < 2 || value % 2 !== 0) {
      throw new Error(`${name} must be an even integer ≥ 2 (yuv420p), got ${value}`);
    }
  }
  fpsFilter(s.fps);
}

/**
 * fluent-ffmpeg crashes (TypeError in its exit handler) when an explicit binary path does not
 * exist, so explicit paths are checked before the first run.
 */
async function assertExecutable(path: string | undefined, binary: string): Promise<void> {
  if (path === undefined) return;
  try {
    await access(path, constants.X_OK);
  } catch (err) {
    throw new Error(`${binary} not found at ${path}: install ffmpeg (apt-get install ffmpeg) or fix the path`, { cause: err });
  }
}

export function createFfmpegMedia(opts: FfmpegMediaOptions = {}): MediaPort {
  const timeoutMs = effectiveTimeout(opts.timeoutMs);
  // What the batched runs (batch.ts) see: the binary and the resolved limit (0: none).
  const bin = { ffmpegPath: opts.ffmpegPath, timeoutMs: timeoutMs ?? 0 };
  const probe = (source: string) => probeVideo(source, opts.ffprobePath, timeoutMs ?? 0);
  let binariesChecked: Promise<void> | undefined;
  const checkBinaries = () =>
    (binariesChecked ??= Promise.all([
      assertExecutable(opts.ffmpegPath, 'ffmpeg'),
      assertExecutable(opts.ffprobePath, 'ffprobe'),
    ]).then(() => undefined));

  const command = (input: string | Readable): FfmpegCommand => {
    const cmd = ffmpeg(input);
    if (opts.ffmpegPath) cmd.setFfmpegPath(opts.ffmpegPath);
    if (opts.ffprobePath) cmd.setFfprobePath(opts.ffprobePath);
    return cmd;
  };

  /**
   * Decodes the first video stream of `source` to rgb24 frames of exactly `size`, as they arrive;
   * past `limitMs` (undefined: none) ffmpeg is killed.
   */
  async function* decode(
    source: string,
    size: { width: number; height: number },
    inputOptions: string[],
    outputOptions: string[],
    filters: string[],
    limitMs: number | undefined,
  ): AsyncGenerator<RawFrame> {
    await checkBinaries();
    const cmd = command(source)
      .inputOptions([...QUIET, ...inputOptions])
      .outputOptions(['-map', '0:v:0', '-an', '-sn', '-dn', ...outputOptions])
      .outputOptions(['-vf', filters.join(','), '-f', 'rawvideo', '-pix_fmt', 'rgb24']);
    const frameSize = rgb24FrameBytes(size.width, size.height);
    const run = startStreaming(cmd, `ffmpeg decode of ${source}`, 2 * frameSize, limitMs);
    const splitter = new RawFrameSplitter(size.width, size.height);
    let complete = false;
    try {
      for await (const chunk of run.stdout) yield* splitter.push(chunk as Buffer);
      await run.finished;
      splitter.finish();
      complete = true;
    } finally {
      // Early return by the consumer or an error: ffmpeg must not outlive the iteration.
      if (!complete) run.stop();
    }
  }

  return {
    probe: async (source) => {
      await checkBinaries();
      return probe(source);
    },

    readFrames(source, o) {
      return (async function* () {
        fpsFilter(o.fps);
        await checkBinaries();
        if (o.durationS !== undefined && !(o.durationS > 0)) throw new Error(`durationS must be positive, got ${o.durationS}`);
        const info = await probe(source);
        const size = targetSize(info, o);
        // A whole source (a file, a live stream) takes as long as it lasts: no run limit, but a
        // network read that stalls fails.
        const inputOptions: string[] = stallOptions(source, opts.stallTimeoutMs);
        // `-ss 0` misbehaves on some inputs (single images): only seek when asked to.
        if (o.startS && o.startS > 0) inputOptions.push('-ss', String(o.startS));
        if (o.durationS !== undefined) inputOptions.push('-t', String(o.durationS));
        // Scaling to the probed size even when unchanged pins the byte layout the splitter expects.
        yield* decode(source, size, inputOptions, [], [fpsFilter(o.fps), scaleFilter(size.width, size.height)], undefined);
      })();
    },

    async encodeMany(frames, inputFps, settings) {
      settings.forEach((s) => assertEncodeSettings(inputFps, s));
      await checkBinaries();
      return encodeMany(bin, frames, inputFps, settings);
    },

    async decodeMany(segments, size) {
      await checkBinaries();
      return decodeMany(bin, segments, size);
    },

    async decodeAndScale(segments, raw, size) {
      await checkBinaries();
      const input = commonFrameSize(raw);
      // Frames already at the size need no scaling (and no stdin input).
      if (input.width === size.width && input.height === size.height) return { decoded: await decodeMany(bin, segments, size), scaled: raw };
      const r = await decodeAndScale(bin, segments, raw, size);
      return { decoded: r.decoded, scaled: r.scaled! };
    },

    async scaleFrames(frames, size) {
      await checkBinaries();
      return scaleFrames(bin, frames, size);
    },

    async encodeFrames(allFrames, givenFps, s): Promise<EncodedSegment> {
      const started = performance.now();
      const input = commonFrameSize(allFrames);
      assertEncodeSettings(givenFps, s);
      const outFrames = resampledFrameCount(allFrames.length, givenFps, s.fps);
      // The fps filter emits round(duration × fps) frames, which is 0 for very short inputs;
      // a segment keeps at least its first frame.
      const tooShort = Math.round((allFrames.length * s.fps) / givenFps) === 0;
      const frames = tooShort ? allFrames.slice(0, 1) : allFrames;
      const inputFps = tooShort ? s.fps : givenFps;
      await checkBinaries();
      return withTempDir(async (dir) => {
        const target = join(dir, 'segment.mp4');
        const cmd = command(Readable.from(frameBytes(frames), { objectMode: false }))
          .inputOptions([...QUIET, '-f', 'rawvideo', '-pix_fmt', 'rgb24'])
          .inputOptions(['-s', `${input.width}x${input.height}`, '-framerate', String(inputFps)])
          .outputOptions(['-vf', encodeFilterChain(s), '-frames:v', String(outFrames)])
          .outputOptions(segmentCodecOptions(s.qp, outFrames, hasRegions(s.roi)))
          .outputOptions(['-movflags', '+faststart', '-f', 'mp4'])
          .output(target);
        const regions = hasRegions(s.roi) ? `, +${s.roi.offset} QP outside ${s.roi.rects.length} regions` : '';
        await runToCompletion(cmd, `encoding ${frames.length} frames (qp ${s.qp}, ${s.width}x${s.height}, ${s.fps} fps${regions})`, timeoutMs);
        const data = await readFile(target);
        return { data, ms: performance.now() - started };
      });
    },

    async decodeSegment(data, o = {}) {
      if (data.length === 0) throw new UndecodableSegmentError('segment is not decodable: empty buffer (0 bytes)');
      await checkBinaries();
      const notDecodable = (reason: string, cause?: unknown) =>
        new UndecodableSegmentError(`segment is not decodable: ${reason} (${data.length} bytes)`, { cause });
      return withTempDir(async (dir) => {
        // A file, not a pipe: MP4s with the index at the end need seeking.
        const path = join(dir, 'segment.mp4');
        await writeFile(path, data);
        const info = await probe(path).catch((err: Error) => {
          throw err instanceof UnreadableVideoError ? notDecodable(err.reason, err) : err;
        });
        const size = targetSize(info, o);
        const frames: RawFrame[] = [];
        try {
          // -vsync (not -fps_mode) so that ffmpeg builds before 5.1 work too.
          for await (const frame of decode(path, size, [], ['-vsync', 'passthrough'], [scaleFilter(size.width, size.height)], timeoutMs)) {
            frames.push(frame);
          }
        } catch (err) {
          if (err instanceof FfmpegError) throw notDecodable(err.reason, err);
          throw err;
        }
        if (info.frameCount !== undefined && frames.length < info.frameCount) {
          throw notDecodable(`truncated: decoded ${frames.length} of ${info.frameCount} frames`);
        }
        return frames;
      });
    },
  };
}
