import { pino, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import type { Log } from '../src/log.js';

export type LogFormat = 'json' | 'pretty' | 'auto';

export interface LoggingOptions {
  /** What the process is: `worker`, `coordinator`, `ingest`, `up`, `run`, … (a field of every line). */
  role: string;
  format?: LogFormat;
  level?: 'debug' | 'info' | 'warn' | 'error';
  /** Where lines go; stderr by default (stdout carries a command's own output). */
  destination?: NodeJS.WritableStream;
  /** Whether the destination is a terminal (auto format); stderr's own isTTY by default. */
  tty?: boolean;
}

/**
 * The process's logger: JSON lines with role, stream, seq and jobId fields, for a log store;
 * one readable line per event when a person is watching (a TTY, or ONEADAPT_LOG_FORMAT=pretty).
 */
export function createLogger(opts: LoggingOptions): { log: Log; logger: Logger } {
  const tty = opts.tty ?? process.stderr.isTTY === true;
  const pretty = opts.format === 'pretty' || ((opts.format ?? 'auto') === 'auto' && tty);
  const out = opts.destination ?? process.stderr;
  // Synchronous writes: a line logged just before a crash or an exit is not lost.
  const stream = pretty
    ? pinoPretty({ destination: out, sync: true, colorize: tty, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,role,stream,seq,jobId', singleLine: true })
    : out === process.stderr
      ? pino.destination({ fd: 2, sync: true })
      : out;
  const logger = pino({ level: opts.level ?? 'info', base: { role: opts.role }, timestamp: pino.stdTimeFunctions.isoTime }, stream);
  const log: Log = (line, fields = {}) => {
    const { level = 'info', ...rest } = fields;
    logger[level](rest, line);
  };
  return { log, logger };
}
