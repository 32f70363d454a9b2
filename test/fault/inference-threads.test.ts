import { describe, expect, it } from 'vitest';
import { resolveModel } from '../../src/models/catalog.js';
import { InferencePool, InferenceThreadError, InferenceTimeoutError } from '../../src/onnx/pool.js';
import { missingModel } from '../support/models.js';
import { trackScenarios } from './checker.js';

trackScenarios();

// A dead inference thread used to stay dead: the worker then failed every job it took.
describe.skipIf(missingModel('fastestdet'))('inference threads that die are replaced', () => {
  const spec = () => resolveModel('fastestdet');
  const feeds = () => {
    const s = spec();
    return { [s.inputName]: { data: new Float32Array(3 * s.inputHeight * s.inputWidth).fill(0.5), dims: [1, 3, s.inputHeight, s.inputWidth] } };
  };
  // The fault injector: a real crash of the thread, as an onnxruntime abort would cause.
  const killThread = (pool: InferencePool, i: number) => (Reflect.get(pool, 'threads') as { worker: { terminate(): Promise<number> } }[])[i].worker.terminate();

  it('serves the next run on a fresh thread, with the models loaded again, after its thread died', async () => {
    const lines: string[] = [];
    const pool = new InferencePool(['cpu'], 1, 1, (l) => lines.push(l));
    try {
      const s = spec();
      await pool.load('m', s.path);
      expect((await pool.run('m', feeds(), s.outputNames)).outputs[s.outputNames[0]].data.length).toBeGreaterThan(0);
      await killThread(pool, 0);
      await expect(pool.run('m', feeds(), s.outputNames)).resolves.toMatchObject({ ms: expect.any(Number) });
      expect(lines.some((l) => /inference thread replaced \(inference thread exited with code/.test(l))).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('stops a run past its deadline, says so, and replaces its thread', async () => {
    const lines: string[] = [];
    // 1 ms: no real run fits, so the deadline fires on the first one.
    const pool = new InferencePool(['cpu'], 1, 1, (l) => lines.push(l), { runTimeoutMs: 1 });
    try {
      const s = spec();
      await pool.load('m', s.path);
      const err = await pool.run('m', feeds(), s.outputNames).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InferenceTimeoutError);
      expect(err).toBeInstanceOf(InferenceThreadError);
      expect((err as Error).message).toMatch(/took longer than 1 ms; its thread was taken out of service/);
      // The next run gets a fresh thread (and, with the same deadline, times out again).
      await expect(pool.run('m', feeds(), s.outputNames)).rejects.toBeInstanceOf(InferenceTimeoutError);
      expect(lines.filter((l) => l.startsWith('inference thread replaced')).length).toBeGreaterThanOrEqual(1);
    } finally {
      await pool.close();
    }
  });
});
