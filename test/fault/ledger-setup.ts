import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

/** One ledger for the run; at the end, the suite's figures on one line. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'oneadapt-faults-'));
  const ledger = path.join(dir, 'ledger.jsonl');
  project.provide('faultLedger', ledger);
  return async () => {
    const entries = (await readFile(ledger, 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { name: string; event: string; faults?: number; lost?: number; duplicates?: number; secretsLeaked?: number });
    const ends = entries.filter((e) => e.event === 'end');
    const ended = new Set(ends.map((e) => e.name));
    const hung = entries.filter((e) => e.event === 'begin' && !ended.has(e.name)).length;
    const sum = (k: 'faults' | 'lost' | 'duplicates' | 'secretsLeaked') => ends.reduce((s, e) => s + (e[k] ?? 0), 0);
    process.stdout.write(`\nfaults injected ${sum('faults')}, scenarios ${ends.length}, segments lost ${sum('lost')}, duplicates ${sum('duplicates')}, hung ${hung}, secrets leaked ${sum('secretsLeaked')}\n`);
    await rm(dir, { recursive: true, force: true });
  };
}
