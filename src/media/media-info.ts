import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { FfprobeData, FfprobeStream } from 'fluent-ffmpeg';
import { FfmpegError, FfmpegUnavailableError, effectiveTimeout, ffmpegFailure, stderrLines, timeoutFailure } from './ffmpeg-run.js';
import type { VideoInfo } from './types.js';
import { PermanentError } from '../errors.js';

/** What ffprobe says about a source, plus the frame count where the container records it. */
export interface ProbedVideo extends VideoInfo {
  /** Frames in the stream per the container index (MP4 sample table); undefined when unknown. */
  frameCount?: number;
}

/** The source exists but holds no usable video; `reason` says why without naming the source. */
export class UnreadableVideoError extends PermanentError {
  constructor(
    readonly source: string,
    readonly reason: string,
    options: { message?: string; cause?: unknown } = {},
  ) {
    super(options.message ?? `not a readable video: ${source} (ffprobe: ${reason})`, { cause: options.cause });
    this.name = 'UnreadableVideoError';
  }
}

/** `scheme://…` sources (rtsp, http, s3 presigned URLs) are not checked on the local disk. */
export function isUrl(source: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source);
}

/** Parses ffprobe's `num/den` rates; undefined for `0/0` and other non-rates. */
export function parseRate(rate: string | undefined): number | undefined {
  if (!rate) return undefined;
  const [num, den = '1'] = rate.split('/');
  const value = Number(num) / Number(den);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

function rotationDegrees(stream: FfprobeStream): number {
  const fromSideData = (stream as { side_data_list?: { rotation?: number | string }[] }).side_data_list?.find(
    (entry) => entry.rotation !== undefined,
  )?.rotation;
  const raw = fromSideData ?? stream.rotation ?? stream.tags?.rotate ?? 0;
  const degrees = Number(raw);
  return Number.isFinite(degrees) ? degrees : 0;
}

function positiveNumber(value: unknown): number | undefined {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** ffprobe's report → VideoInfo of the first video stream, with dimensions as displayed (rotation applied). */
export function videoInfoFromProbe(data: FfprobeData, source: string): ProbedVideo {
  const video = data.streams.find((stream) => stream.codec_type === 'video');
  if (!video) {
    const kinds = data.streams.map((stream) => stream.codec_type ?? 'unknown').join(', ') || 'none';
    const reason = `no video stream (streams: ${kinds})`;
    throw new UnreadableVideoError(source, reason, { message: `no video stream in ${source} (streams: ${kinds})` });
  }
  const fps = parseRate(video.avg_frame_rate) ?? parseRate(video.r_frame_rate);
  if (!video.width || !video.height || !fps) {
    const reason = `video stream lacks size or frame rate (width=${video.width}, height=${video.height}, rate=${video.r_frame_rate})`;
    throw new UnreadableVideoError(source, reason, { message: `${reason} in ${source}` });
  }
  const quarterTurn = Math.abs(rotationDegrees(video)) % 180 === 90;
  const durationS = positiveNumber(data.format.duration) ?? positiveNumber(video.duration) ?? Infinity;
  const frameCount = positiveNumber(video.nb_frames);
  return {
    width: quarterTurn ? video.height : video.width,
    height: quarterTurn ? video.width : video.height,
    fps,
    durationS,
    codec: video.codec_name ?? 'unknown',
    ...(frameCount ? { frameCount } : {}),
  };
}

/** A local source that does not exist (or is not a file): no retry will find it. */
export class VideoNotFoundError extends PermanentError {
  override name = 'VideoNotFoundError';
}

/** Fails early with "video not found" for local paths, instead of ffprobe's generic error. */
export async function assertLocalSourceExists(source: string): Promise<void> {
  if (isUrl(source)) return;
  let info;
  try {
    info = await stat(source);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new VideoNotFoundError(`video not found: ${source}`, { cause: err });
    throw err;
  }
  if (!info.isFile() && !info.isFIFO()) throw new VideoNotFoundError(`video not found: ${source} (not a file)`);
}

/** ffprobe's JSON report is a few kB; far more means something else is talking. */
const FFPROBE_MAX_OUTPUT = 16 * 1024 * 1024;

/**
 * Runs ffprobe itself (not through fluent-ffmpeg, which exposes no process to kill): past
 * `timeoutMs` (unset → DEFAULT_FFMPEG_TIMEOUT_MS, 0 → none) it is SIGKILLed and the probe fails
 * with FfmpegUnavailableError. The binary is `ffprobePath`, else FFPROBE_PATH, else PATH's.
 */
function runFfprobe(source: string, ffprobePath: string | undefined, timeoutMs: number | undefined): Promise<FfprobeData> {
  const binary = ffprobePath ?? process.env.FFPROBE_PATH ?? 'ffprobe';
  const limit = effectiveTimeout(timeoutMs);
  const args = ['-hide_banner', '-loglevel', 'error', '-print_format', 'json', '-show_streams', '-show_format', source];
  const what = `ffprobe ${source}`;
  return new Promise((resolve, reject) => {
    const options = { timeout: limit ?? 0, killSignal: 'SIGKILL' as const, maxBuffer: FFPROBE_MAX_OUTPUT, windowsHide: true };
    // The callback runs once ffprobe has exited (and, when killed, been reaped).
    execFile(binary, args, options, (err, stdout, stderr) => {
      if (err) {
        // A spawn failure has a string code (ENOENT); a failed exit has the exit code, a number.
        const e = err as { code?: unknown; killed?: boolean; signal?: string | null };
        if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return reject(new FfmpegError(what, `more than ${FFPROBE_MAX_OUTPUT} bytes of output`));
        if (e.killed && limit !== undefined) return reject(timeoutFailure(what, limit, 'ffprobe'));
        if (e.signal) return reject(new FfmpegUnavailableError(`${what}: ffprobe was killed with signal ${e.signal}`, { cause: err }));
        if (typeof e.code === 'string') return reject(ffmpegFailure(what, err, undefined, 'ffprobe'));
        if (!stderr.trim()) return reject(ffmpegFailure(what, new Error(`ffprobe exited with code ${e.code}`, { cause: err }), undefined, 'ffprobe'));
        return reject(new UnreadableVideoError(source, stderrLines(stderr)[0], { cause: err }));
      }
      let report: Partial<FfprobeData>;
      try {
        report = JSON.parse(stdout) as Partial<FfprobeData>;
      } catch (parseError) {
        return reject(new FfmpegError(what, `unparseable report (${(parseError as Error).message})`, parseError));
      }
      resolve({ streams: report.streams ?? [], format: report.format ?? {}, chapters: report.chapters ?? [] });
    });
  });
}

export async function probeVideo(source: string, ffprobePath?: string, timeoutMs?: number): Promise<ProbedVideo> {
  await assertLocalSourceExists(source);
  return videoInfoFromProbe(await runFfprobe(source, ffprobePath, timeoutMs), source);
}
