import { createRequire } from 'node:module';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Request, Response, TensorData } from './protocol.js';

export interface RunResult {
  outputs: Record<string, TensorData>;
  /** Milliseconds inside `session.run`, measured in the thread. */
  ms: number;
}

export interface InferencePort {
  load(key: string, model: string | Uint8Array): Promise<{ providers: string[]; inputNames: string[]; outputNames: string[] }>;
  run(key: string, feeds: Record<string, TensorData>, fetches: string[]): Promise<RunResult>;
  close(): Promise<void>;
}

interface Pending {
  resolve: (r: Response) => void;
  reject: (e: Error) => void;
}

class Thread {
  readonly worker: Worker;
  busy = 0;
  private pending = new Map<number, Pending>();
  /** Set once the thread died (crashed or exited) or missed a deadline. */
  failure?: Error;
  private exited = false;
  private readonly outstanding = new Set<number>();
  private retired = false;
  private readonly idleWaiters: (() => void)[] = [];
  /** A run was sent and its reply has not come (even if its caller gave up on it). */
  running = false;

  constructor(entry: ThreadEntry) {
    this.worker = entry.eval ? new Worker(entry.eval, { eval: true }) : new Worker(entry.url!);
    this.worker.on('message', (msg: Response) => {
      const p = this.pending.get(msg.id);
      this.outstanding.delete(msg.id);
      this.running = this.outstanding.size > 0;
      if (!this.running) for (const wake of this.idleWaiters.splice(0)) wake();
      // A late reply of a retired thread: once nothing runs in it, it can be stopped safely.
      if (this.retired && !this.running) void this.worker.terminate();
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.type === 'error') p.reject(new Error(msg.message));
      else p.resolve(msg);
    });
    this.worker.on('error', (err) => this.fail(new InferenceThreadError(`inference thread crashed: ${err.message}`, { cause: err })));
    this.worker.on('exit', (code) => {
      this.exited = true;
      this.fail(new InferenceThreadError(`inference thread exited with code ${code}`));
    });
  }

  /**
   * Takes the thread out of service. A thread inside onnxruntime's native code must not be
   * terminated (the abort takes the whole process down): it is stopped once it replies, and
   * a thread that never replies is left alone until the pool closes.
   */
  retire(): void {
    this.retired = true;
    if (!this.exited && !this.running) void this.worker.terminate();
  }

  /** Resolves once no run is inside the thread (at once if none is), or after `ms`. */
  idle(ms: number): Promise<void> {
    if (!this.running || this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      setTimeout(resolve, ms).unref();
    });
  }

  fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  send(req: Request, transfer: ArrayBuffer[] = []): Promise<Response> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject });
      this.outstanding.add(req.id);
      this.running = true;
      this.worker.postMessage(req, transfer);
    });
  }
}

/** The thread running a request died or was stopped: the machine failed, the request may be retried. */
export class InferenceThreadError extends Error {
  override name = 'InferenceThreadError';
}

/** A run took longer than the pool's deadline; its thread was stopped and replaced. */
export class InferenceTimeoutError extends InferenceThreadError {
  override name = 'InferenceTimeoutError';
}

interface ThreadEntry {
  url?: URL;
  eval?: string;
}

/** The compiled build runs `thread.js`; sources (tests, tsx) load `thread.ts` through tsx's loader. */
function threadEntry(): ThreadEntry {
  if (!import.meta.url.endsWith('.ts')) return { url: new URL('./thread.js', import.meta.url) };
  // tsx's global loader hooks do not reach worker threads on Node 20; its scoped import does.
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const thread = new URL('./thread.ts', import.meta.url).href;
  return { eval: `import(${JSON.stringify(api)}).then((m) => m.tsImport(${JSON.stringify(thread)}, ${JSON.stringify(thread)}));` };
}

/**
 * onnxruntime sessions in worker threads so inference never blocks the event loop
 * (BullMQ lock renewals, HTTP, pub/sub keep running). Each model is loaded in every thread.
 */
export class InferencePool implements InferencePort {
  private threads: Thread[];
  private nextId = 1;
  private readonly intraOp: number;
  private readonly entry = threadEntry();
  /** Every model loaded, so that a replacement thread can load them too. */
  private readonly models = new Map<string, string | Uint8Array>();
  private readonly runTimeoutMs: number;
  private closed = false;
  private readonly replacing = new Map<Thread, Promise<Thread>>();
  /** Replaced threads that may still be finishing a run; close() waits for them too. */
  private readonly retiredThreads: Thread[] = [];

  constructor(
    private readonly providers: string[] = ['cpu'],
    threads = 1,
    intraOpThreads?: number,
    private readonly log: (line: string) => void = (l) => console.warn(l),
    /** A run past this deadline stops its thread, which is replaced (0 = no deadline). */
    opts: { runTimeoutMs?: number } = {},
  ) {
    this.threads = Array.from({ length: threads }, () => new Thread(this.entry));
    this.intraOp = intraOpThreads ?? Math.max(1, Math.floor(os.availableParallelism() / threads));
    this.runTimeoutMs = opts.runTimeoutMs ?? 0;
  }

  private loadInto(t: Thread, key: string, model: string | Uint8Array): Promise<Response> {
    return t.send({ type: 'load', id: this.nextId++, key, model, providers: this.providers, intraOpThreads: this.intraOp });
  }

  /** A dead thread's place goes to a new one with every model loaded (a crash costs one job). */
  private replace(dead: Thread): Promise<Thread> {
    // Concurrent runs that find the same dead thread share one replacement.
    let pending = this.replacing.get(dead);
    if (!pending) {
      pending = this.startReplacement(dead);
      this.replacing.set(dead, pending);
    }
    return pending;
  }

  private async startReplacement(dead: Thread): Promise<Thread> {
    const fresh = new Thread(this.entry);
    const i = this.threads.indexOf(dead);
    if (i >= 0) this.threads[i] = fresh;
    this.log(`inference thread replaced (${dead.failure?.message ?? 'stopped'})`);
    dead.retire();
    this.retiredThreads.push(dead);
    for (const [key, model] of this.models) await this.loadInto(fresh, key, model);
    return fresh;
  }

  async load(key: string, model: string | Uint8Array) {
    this.models.set(key, model);
    const results = await Promise.all(this.threads.map((t) => this.loadInto(t, key, model)));
    const first = results[0];
    if (first.type !== 'loaded') throw new Error('unexpected reply to load');
    for (const w of first.warnings) this.log(w);
    return { providers: first.providers, inputNames: first.inputNames, outputNames: first.outputNames };
  }

  async run(key: string, feeds: Record<string, TensorData>, fetches: string[]): Promise<RunResult> {
    let thread = this.threads.reduce((a, b) => (b.busy < a.busy ? b : a));
    if (thread.failure && !this.closed) thread = await this.replace(thread);
    thread.busy++;
    let timer: NodeJS.Timeout | undefined;
    try {
      // Feeds are handed over, not copied: callers build a fresh tensor per run.
      const transfer = Object.values(feeds).map((t) => t.data.buffer as ArrayBuffer);
      const reply = thread.send({ type: 'run', id: this.nextId++, key, feeds, fetches }, transfer);
      if (this.runTimeoutMs > 0) {
        const t = thread;
        // onnxruntime cannot cancel a run: the caller gets its answer now, the thread is taken
        // out of service (stopped once the run returns) and replaced at the next run.
        timer = setTimeout(() => {
          t.fail(new InferenceTimeoutError(`inference run of "${key}" took longer than ${this.runTimeoutMs} ms; its thread was taken out of service (ONEADAPT_INFERENCE_TIMEOUT_MS)`));
          t.retire();
        }, this.runTimeoutMs);
      }
      const res = await reply;
      if (res.type !== 'result') throw new Error('unexpected reply to run');
      return { outputs: res.outputs, ms: res.ms };
    } finally {
      clearTimeout(timer);
      thread.busy--;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    // Threads are stopped between runs: terminating one inside onnxruntime aborts the process.
    const all = [...this.threads, ...this.retiredThreads];
    await Promise.all(all.map(async (t) => {
      await t.idle(10_000);
      await t.worker.terminate();
    }));
  }
}
