import { PassThrough, type Readable } from 'node:stream';
import type { FfmpegCommand } from 'fluent-ffmpeg';

/** ffmpeg's stderr as meaningful lines, without the `[demuxer @ 0x…]` context prefixes. */
export function stderrLines(stderr: string | null | undefined): string[] {
  return (stderr ?? '')
    .split(/\r?\n/)
    .map((line) => line.replace(/^\[[^\]]* @ 0x[0-9a-f]+\]\s*/i, '').trim())
    .filter((line) => line.length > 0);
}

/** The last few stderr lines on one line: where ffmpeg says why it gave up. */
export function stderrTail(stderr: string | null | undefined, lines = 4): string {
  const tail = stderrLines(stderr).slice(-lines);
  return tail.length > 0 ? tail.join(' | ') : 'no diagnostics on stderr';
}

/** A failed ffmpeg run: `reason` is ffmpeg's own account (stderr tail), `message` adds the step. */
export class FfmpegError extends Error {
  constructor(
    what: string,
    readonly reason: string,
    cause?: unknown,
  ) {
    super(`${what} failed: ${reason}`, { cause });
    this.name = 'FfmpegError';
  }
}

/** The segment's bytes are not a video ffmpeg can decode (empty, truncated, foreign). */
export class UndecodableSegmentError extends Error {
  override name = 'UndecodableSegmentError';
}

/** The machine failed, not the bytes: the binary is missing, or ffmpeg was killed (OOM, a signal). */
export class FfmpegUnavailableError extends Error {
  override name = 'FfmpegUnavailableError';
}

/**
 * Turns fluent-ffmpeg's failure into a one-line error naming the step and ffmpeg's reason.
 * fluent-ffmpeg reports a missing binary and a killed process only in its message text, so
 * this port is where they are told apart, once: FfmpegUnavailableError for the machine,
 * FfmpegError for what ffmpeg said about its input.
 */
export function ffmpegFailure(what: string, err: Error, stderr: string | null | undefined, binary = 'ffmpeg'): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || /Cannot find (ffmpeg|ffprobe)/.test(err.message)) {
    return new FfmpegUnavailableError(`${binary} not found: install it (apt-get install ffmpeg) or set ONEADAPT_FFMPEG_PATH / ONEADAPT_FFPROBE_PATH`, {
      cause: err,
    });
  }
  if (/killed with signal/.test(err.message)) return new FfmpegUnavailableError(`${what}: ${err.message.split('\n')[0]}`, { cause: err });
  return new FfmpegError(what, stderr ? stderrTail(stderr) : err.message.split('\n')[0], err);
}

/** Global options that keep stderr down to real errors, so error messages can quote it. */
export const QUIET = ['-hide_banner', '-loglevel', 'error', '-nostdin'];

/** Runs a command whose output is a file; resolves when ffmpeg exits cleanly. */
export function runToCompletion(command: FfmpegCommand, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    command
      .on('end', () => resolve())
      .on('error', (err, _stdout, stderr) => reject(ffmpegFailure(what, err, stderr)))
      .run();
  });
}

export interface StreamingFfmpeg {
  /** ffmpeg's stdout; errors from ffmpeg destroy it with a descriptive error. */
  stdout: Readable;
  /** Settles when ffmpeg has exited and its stdout is fully delivered. */
  finished: Promise<void>;
  /** Kills ffmpeg now (consumer no longer wants output). */
  stop(): void;
}

/**
 * Starts a command that writes to stdout. The pipe is not ended by ffmpeg's stdout alone:
 * fluent-ffmpeg reports a late exit code after stdout closes, and an error exit must reach the
 * reader instead of looking like a clean end of stream.
 */
export function startStreaming(command: FfmpegCommand, what: string, highWaterMark: number): StreamingFfmpeg {
  const stdout = new PassThrough({ highWaterMark });
  let stdoutDone = false;
  let exited = false;
  let stopped = false;
  const endIfDone = () => {
    if (stdoutDone && exited && !stdout.destroyed) stdout.end();
  };
  // With { end: false } the source unpipes itself when ffmpeg's stdout ends.
  stdout.once('unpipe', () => {
    stdoutDone = true;
    endIfDone();
  });
  const finished = new Promise<void>((resolve, reject) => {
    command
      .on('end', () => {
        exited = true;
        endIfDone();
        resolve();
      })
      .on('error', (err, _stdout, stderr) => {
        const failure = stopped ? new Error(`${what} stopped by its consumer`) : ffmpegFailure(what, err, stderr);
        stdout.destroy(failure);
        reject(failure);
      });
  });
  finished.catch(() => undefined);
  command.output(stdout, { end: false }).run();
  return {
    stdout,
    finished,
    stop() {
      if (stopped) return;
      stopped = true;
      command.kill('SIGKILL');
      stdout.destroy();
    },
  };
}
