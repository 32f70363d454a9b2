import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { policyFromSpec } from '../../src/adapt/policies.js';
import { encodedKnobs } from '../../src/knobs/encode.js';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';
import { FleetRegister } from '../../src/queue/fleet-register.js';
import { StreamRegister } from '../../src/queue/stream-register.js';
import type { ResultJob } from '../../src/records/segment-result.js';
import { Metrics } from '../../app/metrics/metrics.js';
import { Coordinator, type PolicyStep } from '../../workers/coordinator/coordinator.js';
import { cameraSegment, seeded, syntheticCameras } from '../support/fleet-cameras.js';
import { randomPrefix } from '../support/random.js';

const W = 640;
const H = 360;
const SPEC = 'oneadapt:knobs=qp+resolution';
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Fifty synthetic cameras as one fleet, their results replayed through real coordinators (three,
 * racing on the fleet's state) and Redis: no ffmpeg, no onnxruntime. Each round every live camera
 * claims its next segment, "encodes" it at the knobs the claim returns and hands the result to
 * a coordinator; the clock the fleet stamps results with advances one second per round.
 */
describe('a fleet of 50 streams through the coordinator and Redis', () => {
  const redis = new Redis(inject('redisUrl'));
  afterAll(() => redis.disconnect());

  it('converges to its budget, frees a silent stream\'s share at the timeout and follows a budget change within 3 segments', async () => {
    const prefix = randomPrefix('fleet');
    let nowMs = 0;
    const clock = () => nowMs;
    const register = new StreamRegister(redis, prefix);
    const fleets = new FleetRegister(redis, prefix, clock);
    const metrics = new Metrics({ defaults: false });
    const steps: PolicyStep[] = [];
    const coordinators = [0, 1, 2].map(
      () =>
        new Coordinator(
          new StreamRegister(redis, prefix),
          () => undefined,
          (s) => {
            steps.push(s);
            metrics.policyStep(s);
          },
          new FleetRegister(redis, prefix, clock),
        ),
    );
    const cams = syntheticCameras(50);
    const total = cams.reduce((s, c) => s + c.refKbps, 0);
    const budget1 = 0.15 * total;
    const budget2 = budget1 / 2;
    await fleets.setBudget('cams', { kbps: budget1, timeoutS: 4 });
    const policy = policyFromSpec(SPEC);
    const ids = cams.map((_, i) => `cam-${i}`);
    for (const id of ids) {
      const initial = policy.initial({ spaces: DEFAULT_SPACES, sourceWidth: W, sourceHeight: H, fleet: { budgetBw: false, budgetGpu: false, floorHonoured: true } });
      await register.register(
        { streamId: id, source: `${id}.mp4`, sourceWidth: W, sourceHeight: H, policy: SPEC, model: 'm', segmentSeconds: 1, analysisFps: 10, spaces: DEFAULT_SPACES, fleet: { name: 'cams' } },
        encodedKnobs(initial.setting, W, H),
        initial.state,
      );
    }

    const rnd = seeded(1);
    const spend: number[] = [];
    const prices: number[] = [];
    const members: number[] = [];
    const silentFrom = 30;
    const changeAt = 50;
    const rounds = 65;
    for (let round = 0; round < rounds; round++) {
      nowMs = round * 1000;
      if (round === changeAt) await fleets.setBudget('cams', { kbps: budget2 });
      const live = ids.map((_, i) => i).filter((i) => round < silentFrom || i >= 10);
      let sent = 0;
      // Each coordinator takes its share of the streams one result at a time (as a results worker does), all three at once.
      await Promise.all(
        coordinators.map(async (coordinator, c) => {
          for (const i of live.filter((j) => j % coordinators.length === c)) {
            const claimed = await register.claim(ids[i], round);
            const k = claimed.knobs;
            const seg = cameraSegment(cams[i], { qp: k.qp, resolution: k.resolution, fps: k.fps, roi: k.roi }, rnd);
            sent += (seg.bytes * 8) / 1000;
            const result: ResultJob = {
              streamId: ids[i], seq: round, knobs: k, knobVersion: claimed.version, bytes: seg.bytes, frames: 10, slots: 10, detections: 3, proxy: 2,
              decodeMs: 1, inferMs: 1, gradMs: 1, encodeMs: 1, probeMs: 1, f1: null, gradients: seg.gradients,
            };
            expect(await coordinator.handle(result)).toBe('stepped');
          }
        }),
      );
      const reading = await fleets.reading('cams');
      spend.push(sent);
      prices.push(reading.priceBw ?? NaN);
      members.push(reading.totals.members);
    }

    // Converges: within 5 % of the budget on average once settled, the price steady.
    expect(Math.abs(mean(spend.slice(15, silentFrom)) / budget1 - 1)).toBeLessThan(0.05);
    for (const p of prices.slice(20, silentFrom)) expect(Math.abs(p / mean(prices.slice(20, silentFrom)) - 1)).toBeLessThan(0.2);

    // Ten streams fall silent at round 30: counted until their 4-s timeout, gone after it.
    expect(members[silentFrom + 3]).toBe(50);
    expect(members[silentFrom + 5]).toBe(40);
    const after = await fleets.reading('cams');
    expect(Object.keys(after.state.members).some((id) => ids.slice(0, 10).includes(id))).toBe(false);
    // Their share goes to the others: the 40 spend the whole budget again.
    expect(Math.abs(mean(spend.slice(40, changeAt)) / budget1 - 1)).toBeLessThan(0.06);

    // The budget halves at round 50 (as `oneadapt fleet set` does, from outside): the price moves
    // at once, the third segment after the change has gone at least 75 % of the way, and the
    // fleet settles at the new budget.
    expect(prices[changeAt]).toBeGreaterThan(1.5 * prices[changeAt - 1]);
    const before = mean(spend.slice(changeAt - 5, changeAt));
    expect((before - spend[changeAt + 3]) / (before - budget2)).toBeGreaterThan(0.75);
    expect(Math.abs(mean(spend.slice(changeAt + 5)) / budget2 - 1)).toBeLessThan(0.06);

    // Every step reported the fleet; the metrics hold its price, budget, spend and the live members' shares.
    expect(steps.every((s) => s.fleet?.name === 'cams')).toBe(true);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(new RegExp(`oneadapt_fleet_budget_kbps\\{fleet="cams"\\} ${budget2}`));
    expect(text).toMatch(/oneadapt_fleet_price\{fleet="cams"\} [0-9.e-]+/);
    expect(text).toMatch(/oneadapt_fleet_spend_kbps\{fleet="cams"\} [0-9.e-]+/);
    const shares = [...text.matchAll(/oneadapt_fleet_share\{fleet="cams",stream="([^"]+)"\} ([0-9.e-]+)/g)];
    expect(shares.length).toBe(40);
    expect(shares.some(([, id]) => ids.slice(0, 10).includes(id))).toBe(false);
    expect(shares.reduce((s, [, , v]) => s + Number(v), 0)).toBeCloseTo(1, 5);
    await register.close();
  });

  it('keeps the fleet\'s keys under its own hash tag and refuses a step computed against an old state or budget', async () => {
    const prefix = randomPrefix('fleet-cas');
    const fleets = new FleetRegister(redis, prefix, () => 0);
    expect(fleets.key('cams')).toBe(`${prefix}:oa:fleet:cams`);
    await fleets.setBudget('cams', { kbps: 100 });
    const read = await fleets.read('cams');
    await fleets.observe('cams', { streamId: 'a', seq: 0, kbps: 80, gpuFps: 10, weight: 1, priority: 0, report: { priceHintBw: 0.001 } });
    // A budget change bumps the version too: what was read before it can no longer be stored.
    await fleets.setBudget('cams', { kbps: 50 });
    const stale = await (redis as unknown as { oneadaptFleetCommit(k: string, v: string, s: string): Promise<[number, number]> }).oneadaptFleetCommit(fleets.key('cams'), String(read.version), JSON.stringify(read.state));
    expect(stale[0]).toBe(0);
    const now = await fleets.reading('cams');
    expect(now.budget.kbps).toBe(50);
    expect(Object.keys(now.state.members)).toEqual(['a']);
    expect(await fleets.fleets()).toEqual(['cams']);
    await fleets.setBudget('cams', { kbps: null });
    expect((await fleets.read('cams')).budget.kbps).toBeUndefined();
    await fleets.forget('cams');
    expect(await fleets.fleets()).toEqual([]);
  });
});
