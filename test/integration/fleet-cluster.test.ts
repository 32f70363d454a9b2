import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyFromSpec } from '../../src/adapt/policies.js';
import { encodedKnobs } from '../../src/knobs/encode.js';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';
import { FleetRegister } from '../../src/queue/fleet-register.js';
import { StreamRegister } from '../../src/queue/stream-register.js';
import { Coordinator } from '../../workers/coordinator/coordinator.js';
import { cameraSegment, seeded, syntheticCameras } from '../support/fleet-cameras.js';
import { randomPrefix } from '../support/random.js';
import { LocalRedisCluster, missingClusterTools } from '../support/redis-cluster.js';

const skipReason = missingClusterTools();
if (skipReason) console.warn(`fleet-cluster.test.ts skipped: ${skipReason}`);

const SPEC = 'oneadapt:knobs=qp';

describe.skipIf(skipReason)('a fleet on a Redis Cluster', () => {
  let local: LocalRedisCluster;
  let cluster: Cluster;
  beforeAll(async () => {
    local = await LocalRedisCluster.start(3);
    cluster = new Cluster(local.ports.map((port) => ({ host: '127.0.0.1', port })), { scaleReads: 'master' });
  }, 60_000);
  afterAll(async () => {
    cluster?.disconnect();
    await local?.close();
  });

  it('keeps the fleet in its own slot while its members\' results are stepped and counted by two coordinators', async () => {
    const prefix = randomPrefix('fleet-cluster');
    const fleets = new FleetRegister(cluster, prefix, () => 0);
    // The fleet's hash tag is {fleet:<name>}: its key hashes like the tag alone.
    expect(fleets.key('cams')).toBe(`${prefix}:oa:{fleet:cams}`);
    expect(Number(await cluster.cluster('KEYSLOT', fleets.key('cams')))).toBe(Number(await cluster.cluster('KEYSLOT', 'fleet:cams')));
    const cams = syntheticCameras(6, 3);
    const budget = 0.2 * cams.reduce((s, c) => s + c.refKbps, 0);
    await fleets.setBudget('cams', { kbps: budget });
    const register = new StreamRegister(cluster, prefix);
    const policy = policyFromSpec(SPEC);
    for (let i = 0; i < cams.length; i++) {
      const d = policy.initial({ spaces: DEFAULT_SPACES, sourceWidth: 640, sourceHeight: 360, fleet: { budgetBw: false, budgetGpu: false, floorHonoured: true } });
      await register.register({ streamId: `c${i}`, source: 'x.mp4', sourceWidth: 640, sourceHeight: 360, policy: SPEC, model: 'm', segmentSeconds: 1, analysisFps: 10, spaces: DEFAULT_SPACES, fleet: { name: 'cams' } }, encodedKnobs(d.setting, 640, 360), d.state);
    }
    const coordinators = [0, 1].map(() => new Coordinator(new StreamRegister(cluster, prefix), undefined, undefined, new FleetRegister(cluster, prefix, () => 0)));
    const rnd = seeded(2);
    for (let seq = 0; seq < 12; seq++) {
      await Promise.all(
        cams.map(async (cam, i) => {
          const claimed = await register.claim(`c${i}`, seq);
          const k = claimed.knobs;
          const seg = cameraSegment(cam, { qp: k.qp, resolution: k.resolution, fps: k.fps, roi: k.roi }, rnd);
          await coordinators[i % 2].handle({ streamId: `c${i}`, seq, knobs: k, knobVersion: claimed.version, bytes: seg.bytes, frames: 10, slots: 10, detections: 1, proxy: 1, decodeMs: 0, inferMs: 0, gradMs: 0, encodeMs: 0, probeMs: 0, f1: null, gradients: seg.gradients });
        }),
      );
    }
    const r = await fleets.reading('cams');
    expect(r.totals.members).toBe(6);
    expect(Object.values(r.state.members).every((m) => m.seq === 11)).toBe(true);
    expect(r.priceBw).toBeGreaterThan(0);
    // Six results per round, each counted once, through compare-and-set races: 1 budget write + 72 counts.
    expect(r.version).toBe(1 + 6 * 12);
    await register.close();
  });
});
