import type { ArchiveProgress } from '../enqueue.js';

/** A one-line progress bar on stderr (only when it is a terminal, else a line per 10%). */
export function progressBar(label: string): { update(done: number, total: number | undefined): void; stop(): void } {
  const tty = process.stderr.isTTY;
  let lastDecile = -1;
  return {
    update(done, total) {
      if (tty) {
        const width = 30;
        const frac = total ? Math.min(1, done / total) : 0;
        const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
        process.stderr.write(`\r${label} ${bar} ${done}/${total ?? '?'} segments`);
      } else if (total) {
        const decile = Math.floor((10 * done) / total);
        if (decile !== lastDecile) {
          lastDecile = decile;
          process.stderr.write(`${label} ${done}/${total} segments\n`);
        }
      }
    },
    stop() {
      if (tty) process.stderr.write('\n');
    },
  };
}

/** What the view reads of a set of streams' progress: ArchiveProgress's counts (app/enqueue). */
export type StreamsSnapshot = Pick<ArchiveProgress, 'done' | 'ingested' | 'total' | 'known' | 'exact' | 'finished'> & {
  streams: readonly Pick<ArchiveProgress['streams'][number], 'state' | 'finished'>[];
  failed: readonly unknown[];
};

/** `42s`, `4m05s`, `1h02m`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Segments analysed per second over the last `windowMs`. */
export class SegmentRate {
  private readonly samples: { t: number; done: number }[] = [];
  constructor(private readonly windowMs = 60_000) {}

  add(t: number, done: number): void {
    this.samples.push({ t, done });
    while (this.samples.length > 2 && t - this.samples[1].t >= this.windowMs) this.samples.shift();
  }

  /** Undefined until the window spans a second and something was analysed in it. */
  perSecond(): number | undefined {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || last.t - first.t < 1000 || last.done <= first.done) return undefined;
    return ((last.done - first.done) * 1000) / (last.t - first.t);
  }
}

/** The streams' state in one line: streams, segments known, ingested, analysed, rate and ETA. */
export function streamsLine(p: StreamsSnapshot, rate: number | undefined): string {
  const n = p.streams.length;
  const count = (state: string) => p.streams.filter((s) => !s.finished && s.state === state).length;
  // Ingested: cut whole, its last results still to come.
  const states = [`${p.finished - p.failed.length} done`, ...(['ingested', 'ingesting', 'queued'] as const).map((s) => [count(s), s] as const).filter(([c]) => c > 0).map(([c, s]) => `${c} ${s}`)];
  if (p.failed.length > 0) states.push(`${p.failed.length} failed`);
  const total = p.total === undefined ? `${p.known}+?` : `${p.exact ? '' : '≈'}${p.total}`;
  const share = p.total ? ` (${Math.floor((100 * Math.min(p.done, p.total)) / p.total)}%)` : '';
  const left = p.total === undefined ? undefined : Math.max(0, p.total - p.done);
  const eta = left === 0 ? 'ETA 0s' : rate && left !== undefined ? `ETA ${formatDuration(left / rate)}` : 'ETA ?';
  const speed = rate ? `${rate.toFixed(rate < 10 ? 2 : 1)} seg/s` : '– seg/s';
  return `${n} stream${n === 1 ? '' : 's'} (${states.join(', ')}) · segments ${total} · ingested ${p.ingested} · analysed ${p.done}${share} · ${speed} · ${eta}`;
}

export interface StreamsProgressOptions {
  /** Draw a bar redrawn in place (a terminal) or write whole lines (a log, a pipe). */
  tty?: boolean;
  write?: (text: string) => void;
  now?: () => number;
  /** Without a terminal: a line at least this often while anything changes (and at every 10%, every stream finished). */
  lineEveryMs?: number;
  /** The terminal's width: the bar's line is cut to it so that it redraws in place. */
  columns?: number;
}

/**
 * Live progress of a set of streams on stderr: on a terminal a bar of the segments analysed
 * with their line beside it; otherwise that line, written when a tenth more is analysed,
 * a stream finishes or `lineEveryMs` passed with a change, and once more at the end.
 */
export function streamsProgress(label: string, o: StreamsProgressOptions = {}): { update(p: StreamsSnapshot): void; stop(): void } {
  const tty = o.tty ?? process.stderr.isTTY === true;
  const write = o.write ?? ((t: string) => void process.stderr.write(t));
  const now = o.now ?? (() => Date.now());
  const every = o.lineEveryMs ?? 30_000;
  const rate = new SegmentRate();
  let last: StreamsSnapshot | undefined;
  let written: { at: number; line: string; decile: number; finished: number } | undefined;
  let drawn = false;
  const render = (p: StreamsSnapshot) => streamsLine(p, rate.perSecond());
  return {
    update(p) {
      const t = now();
      rate.add(t, p.done);
      last = p;
      const line = render(p);
      if (tty) {
        const width = 24;
        const frac = p.total ? Math.min(1, p.done / p.total) : 0;
        const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
        const cols = o.columns ?? process.stderr.columns;
        const text = `${label} ${bar} ${line}`;
        write(`\r\x1b[K${cols && text.length >= cols ? text.slice(0, cols - 1) : text}`);
        drawn = true;
        return;
      }
      const decile = p.total ? Math.floor((10 * Math.min(p.done, p.total)) / p.total) : -1;
      const due =
        !written ||
        decile > written.decile ||
        p.finished > written.finished ||
        (t - written.at >= every && line !== written.line);
      if (!due) return;
      written = { at: t, line, decile, finished: p.finished };
      write(`${label}: ${line}\n`);
    },
    stop() {
      if (tty) {
        if (drawn) write('\n');
        return;
      }
      if (last) {
        const line = render(last);
        if (line !== written?.line) write(`${label}: ${line}\n`);
      }
    },
  };
}
