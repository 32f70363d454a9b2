// onnxruntime sessions for the gradient check and bench/vjp.ts, opened by the product's session
// factory (same options as the workers' sessions), and run in this thread.
import * as ort from 'onnxruntime-node';
import type { Tensor32 } from '../../src/autodiff/gradient-check.js';
import { createSession, type SessionExtras } from '../../src/onnx/session-factory.js';

export interface CheckSessionSettings {
  /** Execution providers in preference order; unavailable ones fall back to cpu with a warning. */
  providers: string[];
  intraOpThreads: number;
}

/** Two intra-op threads on the CPU: what the README's timings use. */
export const DEFAULT_CHECK_SESSIONS: CheckSessionSettings = { providers: ['cpu'], intraOpThreads: 2 };

export interface OpenedSession {
  session: ort.InferenceSession;
  providers: string[];
  warnings: string[];
}

export async function openSession(model: Uint8Array | string, settings: CheckSessionSettings = DEFAULT_CHECK_SESSIONS, extras: SessionExtras = {}): Promise<OpenedSession> {
  return createSession(model, settings.providers, settings.intraOpThreads, extras);
}

/** Runs `s` on float32 feeds; every output comes back as plain data. */
export async function runSession(s: ort.InferenceSession, feeds: Record<string, Tensor32>): Promise<Record<string, Tensor32>> {
  const f: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', v.data, v.dims);
  const out = await s.run(f);
  const r: Record<string, Tensor32> = {};
  for (const [k, v] of Object.entries(out)) r[k] = { data: v.data as Float32Array, dims: [...v.dims] };
  return r;
}
