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
  private failure?: Error;

  constructor(entry: ThreadEntry) {
    this.worker = entry.eval ? new Worker(entry.eval, { eval: true }) : new Worker(entry.url!);
    this.worker.on('message', (msg: Response) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.type === 'error') p.reject(new Error(msg.message));
      else p.resolve(msg);
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`inference thread exited with code ${code}`)));
  }

  send(req: Request, transfer: ArrayBuffer[] = []): Promise<Response> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject });
      this.worker.postMessage(req, transfer);
    });
  }
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

  constructor(
    private readonly providers: string[] = ['cpu'],
    threads = 1,
    intraOpThreads?: number,
    private readonly log: (line: string) => void = (l) => console.warn(l),
  ) {
    const entry = threadEntry();
    this.threads = Array.from({ length: threads }, () => new Thread(entry));
    this.intraOp = intraOpThreads ?? Math.max(1, Math.floor(os.availableParallelism() / threads));
  }

  async load(key: string, model: string | Uint8Array) {
    const results = await Promise.all(
      this.threads.map((t) =>
        t.send({ type: 'load', id: this.nextId++, key, model, providers: this.providers, intraOpThreads: this.intraOp }),
      ),
    );
    const first = results[0];
    if (first.type !== 'loaded') throw new Error('unexpected reply to load');
    for (const w of first.warnings) this.log(w);
    return { providers: first.providers, inputNames: first.inputNames, outputNames: first.outputNames };
  }

  async run(key: string, feeds: Record<string, TensorData>, fetches: string[]): Promise<RunResult> {
    const thread = this.threads.reduce((a, b) => (b.busy < a.busy ? b : a));
    thread.busy++;
    try {
      // Feeds are handed over, not copied: callers build a fresh tensor per run.
      const transfer = Object.values(feeds).map((t) => t.data.buffer as ArrayBuffer);
      const res = await thread.send({ type: 'run', id: this.nextId++, key, feeds, fetches }, transfer);
      if (res.type !== 'result') throw new Error('unexpected reply to run');
      return { outputs: res.outputs, ms: res.ms };
    } finally {
      thread.busy--;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
