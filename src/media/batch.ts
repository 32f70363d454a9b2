import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { FfmpegError, QUIET, UndecodableSegmentError, effectiveTimeout, runToCompletion, stderrLines } from './ffmpeg-run.js';
import { encodeFilterChain, hasRegions, resampledFrameCount, scaleFilter, segmentCodecOptions } from './filters.js';
import { commonFrameSize, rgb24FrameBytes } from './raw-frames.js';
import type { EncodeSettings, RawFrame } from './types.js';
import { withTempDir } from './temp-dir.js';

/** Which ffmpeg binary to run (ONEADAPT_FFMPEG_PATH); unset → fluent-ffmpeg's lookup on PATH. */
export interface FfmpegBinary {
  ffmpegPath?: string;
  /** Limit on one run (ONEADAPT_FFMPEG_TIMEOUT_MS); unset → DEFAULT_FFMPEG_TIMEOUT_MS, 0 → none. */
  timeoutMs?: number;
}

function command(bin: FfmpegBinary, input?: Readable): ffmpeg.FfmpegCommand {
  const cmd = input ? ffmpeg(input) : ffmpeg();
  if (bin.ffmpegPath) cmd.setFfmpegPath(bin.ffmpegPath);
  return cmd;
}

// Several encodes or decodes in ONE ffmpeg process: on short segments the process start,
// not the codec, is most of the cost (the ingest's probe needs 3–4 of each per segment).


/**
 * Runs to completion; any line ffmpeg prints at error level (e.g. "partial file") fails it.
 * Past the binary's timeout ffmpeg is killed: FfmpegUnavailableError, not a verdict on the bytes.
 */
function runStrict(bin: FfmpegBinary, cmd: ffmpeg.FfmpegCommand, what: string): Promise<void> {
  return runToCompletion(cmd, what, effectiveTimeout(bin.timeoutMs), (stderr) => {
    const lines = stderrLines(stderr);
    return lines.length > 0 ? new FfmpegError(what, lines[0]) : undefined;
  });
}

/** Encodes the same frames with several settings in one process; outputs in the settings' order. */
export async function encodeMany(bin: FfmpegBinary, frames: readonly RawFrame[], inputFps: number, settings: readonly EncodeSettings[]): Promise<Buffer[]> {
  if (settings.length === 0) return [];
  const input = commonFrameSize(frames);
  return withTempDir(async (dir) => {
    const split = `[0:v]split=${settings.length}${settings.map((_, i) => `[s${i}]`).join('')}`;
    const chains = settings.map((s, i) => `[s${i}]${encodeFilterChain(s)}[o${i}]`);
    const cmd = command(bin, rawStream(frames))
      .inputOptions([...QUIET, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${input.width}x${input.height}`, '-framerate', String(inputFps)])
      .complexFilter([split, ...chains].join(';'));
    settings.forEach((s, i) => {
      const n = resampledFrameCount(frames.length, inputFps, s.fps);
      cmd
        .output(join(dir, `v${i}.mp4`))
        .outputOptions(['-map', `[o${i}]`, '-frames:v', String(n), ...segmentCodecOptions(s.qp, n, hasRegions(s.roi)), '-movflags', '+faststart', '-f', 'mp4']);
    });
    await runStrict(bin, cmd, `encoding ${settings.length} variants of ${frames.length} frames`);
    return Promise.all(settings.map((_, i) => readFile(join(dir, `v${i}.mp4`))));
  });
}

/**
 * Decodes several segments in one process, each scaled to width×height. Without a container
 * probe: a damaged or truncated input shows up as ffmpeg errors or a partial frame and fails.
 */
export async function decodeMany(bin: FfmpegBinary, segments: readonly Buffer[], size: { width: number; height: number }): Promise<RawFrame[][]> {
  if (segments.length === 0) return [];
  return (await decodeAndScale(bin, segments, undefined, size)).decoded;
}

/**
 * decodeMany plus, in the same process, raw frames rescaled with the same scaler (the probe
 * compares decodes with the raw video at the DNN's size: one ffmpeg start instead of two).
 */
export async function decodeAndScale(
  bin: FfmpegBinary,
  segments: readonly Buffer[],
  raw: readonly RawFrame[] | undefined,
  size: { width: number; height: number },
): Promise<{ decoded: RawFrame[][]; scaled?: RawFrame[] }> {
  segments.forEach((s, i) => {
    if (s.length === 0) throw new UndecodableSegmentError(`segment is not decodable: empty buffer (0 bytes)${segments.length > 1 ? ` (input ${i})` : ''}`);
  });
  return withTempDir(async (dir) => {
    const cmd = command(bin);
    // Raw frames (if any) are input 0, through stdin; segment i is input i + offset.
    const offset = raw && raw.length > 0 ? 1 : 0;
    if (offset) {
      const input = commonFrameSize(raw!);
      cmd.input(rawStream(raw!)).inputOptions(['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${input.width}x${input.height}`]);
    }
    for (const [i, s] of segments.entries()) {
      const p = join(dir, `in${i}.mp4`);
      await writeFile(p, s);
      cmd.input(p);
    }
    cmd.inputOptions(QUIET);
    const outputs = [...(offset ? ['scaled'] : []), ...segments.map((_, i) => `out${i}`)];
    outputs.forEach((name, i) => {
      cmd
        .output(join(dir, `${name}.raw`))
        .outputOptions(['-map', `${i}:v:0`, '-vf', scaleFilter(size.width, size.height), '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24']);
    });
    try {
      await runStrict(bin, cmd, `decoding ${segments.length} segment(s)`);
    } catch (err) {
      if (!(err instanceof FfmpegError)) throw err;
      throw new UndecodableSegmentError(`segment is not decodable: ${err.reason} (${segments.map((s) => s.length).join('+')} bytes)`, { cause: err });
    }
    const read = async (name: string) => splitFrames(await readFile(join(dir, `${name}.raw`)), size);
    const decoded = await Promise.all(segments.map((_, i) => read(`out${i}`)));
    if (!offset) return { decoded };
    const scaled = await read('scaled');
    if (scaled.length !== raw!.length) throw new Error(`scaling returned ${scaled.length} of ${raw!.length} frames`);
    return { decoded, scaled };
  });
}

function rawStream(frames: readonly RawFrame[]): Readable {
  return Readable.from(
    (function* () {
      for (const f of frames) yield Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength);
    })(),
  );
}

function splitFrames(raw: Buffer, size: { width: number; height: number }): RawFrame[] {
  const frameBytes = rgb24FrameBytes(size.width, size.height);
  if (raw.length === 0 || raw.length % frameBytes !== 0) throw new UndecodableSegmentError(`segment is not decodable: ${raw.length} bytes of frames is not a whole number of ${size.width}x${size.height} frames`);
  const frames: RawFrame[] = [];
  for (let o = 0; o < raw.length; o += frameBytes) frames.push({ width: size.width, height: size.height, data: new Uint8Array(raw.buffer, raw.byteOffset + o, frameBytes) });
  return frames;
}

/** Rescales raw frames in one process with the system's scaler (so they compare with decodes). */
export async function scaleFrames(bin: FfmpegBinary, frames: readonly RawFrame[], size: { width: number; height: number }): Promise<RawFrame[]> {
  if (frames.length === 0) return [];
  const input = commonFrameSize(frames);
  if (input.width === size.width && input.height === size.height) return [...frames];
  return (await decodeAndScale(bin, [], frames, size)).scaled!;
}
