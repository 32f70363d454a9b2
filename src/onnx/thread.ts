import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { Request, Response, TensorData } from './protocol.js';
import { createSession } from './session-factory.js';

// One thread owns its sessions; `run()` blocks this thread, never the main event loop.
const sessions = new Map<string, ort.InferenceSession>();
const port = parentPort;
if (!port) throw new Error('inference thread must run as a worker thread');

function reply(msg: Response, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

async function handle(req: Request): Promise<void> {
  if (req.type === 'load') {
    const created = await createSession(req.model, req.providers, req.intraOpThreads);
    sessions.get(req.key)?.release().catch(() => undefined);
    sessions.set(req.key, created.session);
    reply({
      type: 'loaded',
      id: req.id,
      providers: created.providers,
      inputNames: [...created.session.inputNames],
      outputNames: [...created.session.outputNames],
      warnings: created.warnings,
    });
    return;
  }
  const session = sessions.get(req.key);
  if (!session) throw new Error(`model "${req.key}" is not loaded in this inference thread`);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(req.feeds)) feeds[name] = new ort.Tensor('float32', t.data, t.dims);
  const t0 = performance.now();
  const out = await session.run(feeds, req.fetches);
  const ms = performance.now() - t0;
  const outputs: Record<string, TensorData> = {};
  const transfer: ArrayBuffer[] = [];
  for (const name of req.fetches) {
    const tensor = out[name];
    const data = new Float32Array(tensor.data as Float32Array);
    outputs[name] = { data, dims: [...tensor.dims] };
    transfer.push(data.buffer);
  }
  reply({ type: 'result', id: req.id, outputs, ms }, transfer);
}

port.on('message', (req: Request) => {
  handle(req).catch((err: unknown) => reply({ type: 'error', id: req.id, message: err instanceof Error ? err.message : String(err) }));
});
