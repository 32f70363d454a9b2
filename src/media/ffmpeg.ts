import { constants } from 'node:fs';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import ffmpeg, { type FfmpegCommand } from 'fluent-ffmpeg';
import { decodeAndScale, decodeMany, encodeMany, scaleFrames } from './batch.js';
import { encodeFilterChain, fpsFilter, hasRegions, resampledFrameCount, scaleFilter, segmentCodecOptions, targetSize } from './filters.js';
import { FfmpegError, QUIET, UndecodableSegmentError, runToCompletion, startStreaming } from './ffmpeg-run.js';
import { probeVideo, UnreadableVideoError } from './media-info.js';
import { commonFrameSize, RawFrameSplitter, rgb24FrameBytes } from './raw-frames.js';
import type { EncodeSettings, EncodedSegment, MediaPort, RawFrame } from './types.js';
import { withTempDir } from './temp-dir.js';

export interface FfmpegMediaOptions {
  /** Defaults to fluent-ffmpeg's lookup: FFMPEG_PATH, then PATH. */
  ffmpegPath?: string;
  /** Defaults to fluent-ffmpeg's lookup: FFPROBE_PATH, then PATH. */
  ffprobePath?: string;
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

  /** Decodes the first video stream of `source` to rgb24 frames of exactly `size`, as they arrive. */
  async function* decode(
    source: string,
    size: { width: number; height: number },
    inputOptions: string[],
    outputOptions: string[],
    filters: string[],
  ): AsyncGenerator<RawFrame> {
    await checkBinaries();
    const cmd = command(source)
      .inputOptions([...QUIET, ...inputOptions])
      .outputOptions(['-map', '0:v:0', '-an', '-sn', '-dn', ...outputOptions])
      .outputOptions(['-vf', filters.join(','), '-f', 'rawvideo', '-pix_fmt', 'rgb24']);
    const frameSize = rgb24FrameBytes(size.width, size.height);
    const run = startStreaming(cmd, `ffmpeg decode of ${source}`, 2 * frameSize);
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
      return probeVideo(source, opts.ffprobePath);
    },

    readFrames(source, o) {
      return (async function* () {
        fpsFilter(o.fps);
        await checkBinaries();
        if (o.durationS !== undefined && !(o.durationS > 0)) throw new Error(`durationS must be positive, got ${o.durationS}`);
        const info = await probeVideo(source, opts.ffprobePath);
        const size = targetSize(info, o);
        const inputOptions: string[] = [];
        // `-ss 0` misbehaves on some inputs (single images): only seek when asked to.
        if (o.startS && o.startS > 0) inputOptions.push('-ss', String(o.startS));
        if (o.durationS !== undefined) inputOptions.push('-t', String(o.durationS));
        // Scaling to the probed size even when unchanged pins the byte layout the splitter expects.
        yield* decode(source, size, inputOptions, [], [fpsFilter(o.fps), scaleFilter(size.width, size.height)]);
      })();
    },

    async encodeMany(frames, inputFps, settings) {
      settings.forEach((s) => assertEncodeSettings(inputFps, s));
      await checkBinaries();
      return encodeMany(opts, frames, inputFps, settings);
    },

    async decodeMany(segments, size) {
      await checkBinaries();
      return decodeMany(opts, segments, size);
    },

    async decodeAndScale(segments, raw, size) {
      await checkBinaries();
      const input = commonFrameSize(raw);
      // Frames already at the size need no scaling (and no stdin input).
      if (input.width === size.width && input.height === size.height) return { decoded: await decodeMany(opts, segments, size), scaled: raw };
      const r = await decodeAndScale(opts, segments, raw, size);
      return { decoded: r.decoded, scaled: r.scaled! };
    },

    async scaleFrames(frames, size) {
      await checkBinaries();
      return scaleFrames(opts, frames, size);
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
        await runToCompletion(cmd, `encoding ${frames.length} frames (qp ${s.qp}, ${s.width}x${s.height}, ${s.fps} fps${regions})`);
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
        const info = await probeVideo(path, opts.ffprobePath).catch((err: Error) => {
          throw err instanceof UnreadableVideoError ? notDecodable(err.reason, err) : err;
        });
        const size = targetSize(info, o);
        const frames: RawFrame[] = [];
        try {
          // -vsync (not -fps_mode) so that ffmpeg builds before 5.1 work too.
          for await (const frame of decode(path, size, [], ['-vsync', 'passthrough'], [scaleFilter(size.width, size.height)])) {
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
