import { appendFile } from 'node:fs/promises';
import { afterEach, beforeEach, expect, inject } from 'vitest';
import type { Runtime } from '../../app/runtime.js';
import type { OneAdaptState } from '../../src/adapt/oneadapt-policy.js';
import { segmentJobId } from '../../src/queue/names.js';
import { segmentKey } from '../../src/storage/keys.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** Where fault scenarios append their figures (set by vitest.faults.config.ts only). */
    faultLedger?: string;
  }
}

export interface StreamCheck {
  segments: number;
  /** Seqs without a report row. */
  lost: number;
  /** Segments encoded twice (the stored body is not the one its job describes). */
  duplicates: number;
  /** Every other broken invariant, in words. */
  problems: string[];
}

/**
 * The invariants a stream must keep whatever was injected: one row per seq; one body per
 * segment key, the one its job names; knob versions 1..n with validFromSeq never going back;
 * each row encoded with the newest version valid at its seq; for a gradient policy, one Adam
 * step per consumed, probed, error-free row.
 */
export async function checkStream(rt: Runtime, streamId: string, expected?: number): Promise<StreamCheck> {
  const meta = await rt.streams.meta(streamId);
  const segments = expected ?? meta?.totalSegments ?? 0;
  const rows = await rt.streams.rows(streamId);
  const seqs = new Set(rows.map((r) => r.seq));
  const problems: string[] = [];
  const lost = Array.from({ length: segments }, (_, seq) => seq).filter((seq) => !seqs.has(seq)).length;
  let duplicates = 0;
  for (const seq of seqs) {
    const job = await rt.queues.segments.getJob(segmentJobId(streamId, seq));
    const body = job ? await rt.store.getIfExists(segmentKey(streamId, seq)) : undefined;
    if (job && body && body.length !== (job.data as { bytes: number }).bytes) duplicates++;
  }
  const updates = await rt.streams.updates(streamId);
  updates.forEach((u, i) => {
    if (u.version !== i + 1) problems.push(`update #${i + 1} has version ${u.version}`);
    if (i > 0 && u.validFromSeq < updates[i - 1].validFromSeq) problems.push(`update v${u.version} is valid from ${u.validFromSeq}, before v${updates[i - 1].version}'s ${updates[i - 1].validFromSeq}`);
  });
  for (const r of rows) {
    const newest = updates.filter((u) => u.validFromSeq <= r.seq).pop()?.version ?? 0;
    if (r.knobVersion !== newest) problems.push(`segment ${r.seq} was encoded with knob version ${r.knobVersion}, the newest valid at it is ${newest}`);
  }
  const { state, stale } = await rt.streams.policyState(streamId);
  if (meta?.policy.startsWith('oneadapt') && stale === 0 && state) {
    for (const [knob, m] of Object.entries((state as OneAdaptState).moments)) {
      const probed = rows.filter((r) => !r.error && r.gradients?.some((g) => g.knob === knob)).length;
      if (m.t !== probed) problems.push(`knob ${knob}: ${m.t} Adam steps for ${probed} probed error-free rows`);
    }
  }
  return { segments, lost, duplicates, problems };
}

export function expectIntact(c: StreamCheck): void {
  expect({ lost: c.lost, duplicates: c.duplicates, problems: c.problems }).toEqual({ lost: 0, duplicates: 0, problems: [] });
}

export interface ScenarioFigures {
  faults: number;
  lost?: number;
  duplicates?: number;
  secretsLeaked?: number;
}

/**
 * Marks a scenario as begun; `end` records its figures. A scenario that begins and never ends
 * (it hung until its timeout) shows up as hung in `npm run test:faults`'s closing line.
 */
export async function beginScenario(name: string): Promise<{ end(f: ScenarioFigures): Promise<void> }> {
  const ledger = inject('faultLedger');
  const write = (entry: object) => (ledger ? appendFile(ledger, `${JSON.stringify(entry)}\n`) : Promise.resolve());
  await write({ name, event: 'begin' });
  return { end: (f) => write({ name, event: 'end', ...f }) };
}

/**
 * Every test of the calling file is a scenario: begun before it, ended after it with the
 * figures it reported through `figures` (one fault, nothing lost, by default).
 */
export function trackScenarios(): { figures(f: ScenarioFigures & Partial<StreamCheck>): void } {
  let current: { end(f: ScenarioFigures): Promise<void> } | undefined;
  let figures: ScenarioFigures = { faults: 1 };
  beforeEach(async (ctx) => {
    figures = { faults: 1 };
    current = await beginScenario(ctx.task.name);
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') await current?.end(figures);
  });
  return {
    figures: (f) => {
      figures = { faults: f.faults, lost: (figures.lost ?? 0) + (f.lost ?? 0), duplicates: (figures.duplicates ?? 0) + (f.duplicates ?? 0), secretsLeaked: (figures.secretsLeaked ?? 0) + (f.secretsLeaked ?? 0) };
    },
  };
}
