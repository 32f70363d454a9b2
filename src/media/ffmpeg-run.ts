import type { ChildProcess } from 'node:child_process';
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
  // fluent-ffmpeg's own `timeout` option (unused here: it sends SIGTERM) says "process ran into a timeout".
  if (/killed with signal|ran into a timeout/.test(err.message)) {
    return new FfmpegUnavailableError(`${what}: ${err.message.split('\n')[0]}`, { cause: err });
  }
  return new FfmpegError(what, stderr ? stderrTail(stderr) : err.message.split('\n')[0], err);
}

/**
 * Default limit on one ffmpeg/ffprobe run over segments (ONEADAPT_FFMPEG_TIMEOUT_MS). A batch is
 * a few segments of ONEADAPT_SEGMENT_SECONDS (1 s by default, 60 s at most) encoded as 3–4
 * probe variants or decoded once: seconds of work on a busy core, about a minute for 60-s
 * segments at full size. 120 s leaves that headroom and still frees a worker whose ffmpeg hangs
 * (a wedged filesystem, a stuck codec) within two minutes, so the job is retried elsewhere.
 */
export const DEFAULT_FFMPEG_TIMEOUT_MS = 120_000;

/** How long, after the SIGKILL, a timed-out run waits for fluent-ffmpeg to report the exit. */
const KILL_GRACE_MS = 5_000;

/** `timeoutMs` as given, the default when unset; undefined (no limit) for 0 or Infinity. */
export function effectiveTimeout(timeoutMs: number | undefined): number | undefined {
  const ms = timeoutMs ?? DEFAULT_FFMPEG_TIMEOUT_MS;
  if (Number.isNaN(ms) || ms < 0) throw new Error(`ffmpeg timeoutMs must be ≥ 0 (0: none), got ${ms}`);
  // setTimeout fires at once for delays beyond 2^31 - 1 ms (~24.8 days): treat those as none.
  return ms === 0 || ms > 2 ** 31 - 1 ? undefined : ms;
}

/** A run killed for taking too long: the machine's fault (overloaded, wedged), so the job is retried. */
export function timeoutFailure(what: string, timeoutMs: number, binary = 'ffmpeg'): FfmpegUnavailableError {
  return new FfmpegUnavailableError(`${what} timed out after ${timeoutMs} ms: ${binary} killed (limit: ONEADAPT_FFMPEG_TIMEOUT_MS)`);
}

interface Deadline {
  /** True once the limit passed and the command's processes were killed. */
  readonly expired: boolean;
  /** The run ended: stop the clock. */
  clear(): void;
}

type SpawnFfmpeg = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Arms a limit on a command before it runs. When it passes, every process the command started
 * is SIGKILLed, and so is any it starts later, and then `onExpire` is called. That includes the
 * `ffmpeg -formats` / `-encoders` capability checks fluent-ffmpeg runs, with the same binary,
 * before the command itself (once per process), which `command.kill()` cannot reach: they are
 * seen through the command's `_spawnFfmpeg`, fluent-ffmpeg's one place that starts ffmpeg.
 */
function armDeadline(command: FfmpegCommand, timeoutMs: number | undefined, onExpire: () => void): Deadline {
  let expired = false;
  if (timeoutMs === undefined) return { expired, clear: () => undefined };
  const spawned: ChildProcess[] = [];
  const kill = (proc: ChildProcess | undefined) => {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  };
  const internals = command as unknown as { _spawnFfmpeg?: SpawnFfmpeg; ffmpegProc?: ChildProcess };
  const original = internals._spawnFfmpeg;
  if (typeof original === 'function') {
    // Same argument shuffling as fluent-ffmpeg: (args, [options], [processCB], endCB).
    internals._spawnFfmpeg = function (this: unknown, args: unknown, options?: unknown, processCB?: unknown, endCB?: unknown) {
      if (typeof options === 'function') [options, processCB, endCB] = [{}, options, processCB];
      if (endCB === undefined) [processCB, endCB] = [() => undefined, processCB];
      const onProcess = (proc: ChildProcess, ...rest: unknown[]) => {
        spawned.push(proc);
        if (expired) kill(proc);
        (processCB as (...a: unknown[]) => void)(proc, ...rest);
      };
      return original.call(this, args, options, onProcess, endCB);
    };
  }
  const timer = setTimeout(() => {
    expired = true;
    for (const proc of [...spawned, internals.ffmpegProc]) kill(proc);
    onExpire();
  }, timeoutMs);
  return {
    get expired() {
      return expired;
    },
    clear: () => clearTimeout(timer),
  };
}

/** Global options that keep stderr down to real errors, so error messages can quote it. */
export const QUIET = ['-hide_banner', '-loglevel', 'error', '-nostdin'];

/**
 * Runs a command whose output is a file; resolves when ffmpeg exits cleanly and `check` (given
 * ffmpeg's stderr) finds nothing wrong. Past `timeoutMs` (undefined: no limit) ffmpeg is killed
 * and the run rejects with FfmpegUnavailableError, once the process is gone.
 */
export function runToCompletion(
  command: FfmpegCommand,
  what: string,
  timeoutMs?: number,
  check: (stderr: string | null) => Error | undefined = () => undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let grace: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      deadline.clear();
      clearTimeout(grace);
      if (err) reject(err);
      else resolve();
    };
    const timedOut = () => timeoutFailure(what, timeoutMs!);
    // fluent-ffmpeg reports the killed process as an 'error' once it has exited; should that
    // never come (a process stuck in the kernel), the run fails anyway.
    const deadline = armDeadline(command, timeoutMs, () => {
      grace = setTimeout(() => settle(timedOut()), KILL_GRACE_MS);
    });
    command
      .on('end', (_stdout: string | null, stderr: string | null) => settle(check(stderr)))
      .on('error', (err, _stdout, stderr) => settle(deadline.expired ? timedOut() : ffmpegFailure(what, err, stderr)))
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
export function startStreaming(command: FfmpegCommand, what: string, highWaterMark: number, timeoutMs?: number): StreamingFfmpeg {
  const stdout = new PassThrough({ highWaterMark });
  let stdoutDone = false;
  let exited = false;
  let stopped = false;
  let grace: NodeJS.Timeout | undefined;
  const endIfDone = () => {
    if (stdoutDone && exited && !stdout.destroyed) stdout.end();
  };
  // With { end: false } the source unpipes itself when ffmpeg's stdout ends.
  stdout.once('unpipe', () => {
    stdoutDone = true;
    endIfDone();
  });
  let fail: (failure: Error) => void = () => undefined;
  const deadline = armDeadline(command, timeoutMs, () => {
    grace = setTimeout(() => fail(timeoutFailure(what, timeoutMs!)), KILL_GRACE_MS);
  });
  const finished = new Promise<void>((resolve, reject) => {
    fail = (failure) => {
      deadline.clear();
      clearTimeout(grace);
      stdout.destroy(failure);
      reject(failure);
    };
    command
      .on('end', () => {
        deadline.clear();
        exited = true;
        endIfDone();
        resolve();
      })
      .on('error', (err, _stdout, stderr) => {
        if (stopped) fail(new Error(`${what} stopped by its consumer`));
        else fail(deadline.expired ? timeoutFailure(what, timeoutMs!) : ffmpegFailure(what, err, stderr));
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
      deadline.clear();
      command.kill('SIGKILL');
      stdout.destroy();
    },
  };
}
