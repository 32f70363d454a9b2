import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runVideos } from '../../app/run-job.js';
import { createRuntime } from '../../app/runtime.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { freePort } from '../../src/embedded/local-redis.js';
import { openRedis, redisTarget, type RedisConnections } from '../../src/queue/connection.js';
import { queueNames, segmentJobId } from '../../src/queue/names.js';
import { StreamRegister } from '../../src/queue/stream-register.js';
import { HIGHWAY, missingFootage } from '../support/footage.js';
import { pipelineEnv } from '../support/pipeline-config.js';
import { LocalRedisCluster, missingClusterTools } from '../support/redis-cluster.js';

// The whole pipeline (ingest → S3 → BullMQ → inference → coordinator → knob updates) on a
// real three-master Redis Cluster, configured as a user would: REDIS_CLUSTER_NODES.

const skipReason = missingClusterTools() ?? missingFootage(HIGHWAY);
if (skipReason) console.warn(`redis-cluster.test.ts skipped: ${skipReason}`);

/** Like test/support/pipeline-config.ts, on the cluster instead of the run's single Redis. */
function clusterConfig(nodes: string, label: string): Config {
  // The run's S3 with its own bucket and prefix, on the cluster instead of the run's Redis.
  const env: Record<string, string | undefined> = { ...pipelineEnv(label), REDIS_CLUSTER_NODES: nodes };
  delete env.REDIS_URL;
  return loadConfig(env);
}

/** Every key under `prefix` on every master. */
async function allKeys(cluster: Cluster, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for (const node of cluster.nodes('master')) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
  }
  return keys.sort();
}

/** slot → the port of the master serving it, from CLUSTER SLOTS. */
async function slotOwners(cluster: Cluster): Promise<(slot: number) => number> {
  const ranges = await cluster.cluster('SLOTS');
  return (slot) => {
    const master = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2];
    if (!master) throw new Error(`slot ${slot} is not served`);
    return master[1];
  };
}

describe.skipIf(skipReason)('the pipeline on a Redis Cluster', () => {
  let local: LocalRedisCluster;
  const opened: RedisConnections[] = [];
  beforeAll(async () => {
    local = await LocalRedisCluster.start(3);
  }, 60_000);
  afterAll(async () => {
    for (const c of opened) c.disconnect();
    await local?.close();
  });

  it('processes every segment, applies each update, keeps a stream in one slot and spreads the queues', async () => {
    const config = clusterConfig(local.nodesVariable, 'cluster-e2e');
    expect(config.redisUrl).toBeUndefined();
    expect(config.redisCluster?.nodes.map((n) => n.port)).toEqual(local.ports);

    const [report] = await runVideos(config, { videos: [HIGHWAY], policy: 'script:0@qp=32;1@resolution=0.5', maxSegments: 3, log: () => undefined });

    // Every segment's result arrived, once, and none failed.
    expect(report.segments).toBe(3);
    expect(report.perSegment.map((r) => r.seq)).toEqual([0, 1, 2]);
    expect(report.totals.failedSegments).toBe(0);
    // Each update is valid from the segment after the result that caused it, and was applied there.
    expect(report.updates.map((u) => [u.afterSeq, u.validFromSeq, u.version])).toEqual([[0, 1, 1], [1, 2, 2]]);
    expect(report.perSegment.map((r) => [r.knobVersion, r.knobs])).toEqual([
      [0, { qp: 20, resolution: '320x240', fps: 10, roi: 0 }],
      [1, { qp: 32, resolution: '320x240', fps: 10, roi: 0 }],
      [2, { qp: 32, resolution: '160x120', fps: 10, roi: 0 }],
    ]);
    expect(report.perSegment.every((r) => r.proxy > 0)).toBe(true);

    const conns = openRedis(redisTarget(config));
    opened.push(conns);
    const cluster = conns.redis as Cluster;
    const names = queueNames(true);
    expect(names).toEqual({ segments: '{segments}', results: '{results}', ingest: '{ingest}' });
    for (const name of [names.segments, names.results]) {
      const q = new Queue(name, { connection: conns.bull, prefix: config.queuePrefix });
      const counts = await q.getJobCounts('completed', 'failed', 'waiting', 'active');
      await q.close();
      expect(counts, name).toEqual({ completed: 3, failed: 0, waiting: 0, active: 0 });
    }

    const prefix = config.queuePrefix;
    const keys = await allKeys(cluster, prefix);
    const slot = async (key: string) => Number(await cluster.cluster('KEYSLOT', key));
    const owner = await slotOwners(cluster);

    // One stream: every key it has lives in the slot of its hash tag.
    const streamKeys = keys.filter((k) => k.startsWith(`${prefix}:oa:stream:{${report.streamId}}:`));
    expect(streamKeys.map((k) => k.slice(k.lastIndexOf(':') + 1)).sort()).toEqual(['knobs', 'meta', 'policy', 'rows', 'updates']);
    const streamSlot = await slot(`{${report.streamId}}`);
    for (const k of streamKeys) expect(await slot(k), k).toBe(streamSlot);

    // Each queue: all its keys in the slot of its own tag (the ingest queue, unused by `run`,
    // holds only its meta key); no key under the untagged names.
    const queueSlots: number[] = [];
    for (const name of [names.segments, names.results, names.ingest]) {
      const own = keys.filter((k) => k.startsWith(`${prefix}:${name}:`));
      expect(own.length, name).toBeGreaterThan(name === names.ingest ? 0 : 3);
      const s = await slot(name);
      for (const k of own) expect(await slot(k), k).toBe(s);
      queueSlots.push(s);
    }
    expect(keys.filter((k) => /:(segments|results|ingest):/.test(k))).toEqual([]);
    // Every key written is one of the stream's, one of a queue's, or the deployment's two.
    expect(keys.filter((k) => !streamKeys.includes(k) && !/:\{(segments|results|ingest)\}:/.test(k))).toEqual([`${prefix}:oa:epoch`, `${prefix}:oa:streams`]);
    // The queues are spread: three tags, three slots, each on its own master.
    expect(new Set(queueSlots).size).toBe(3);
    expect(new Set(queueSlots.map(owner)).size).toBe(3);

    // The key an autoscaler watches: a job waiting on the segments queue is in `<prefix>:{segments}:wait`.
    const segments = new Queue(names.segments, { connection: conns.bull, prefix });
    await segments.add('segment', { probe: true }, { jobId: segmentJobId('waiting', 0) });
    await segments.close();
    expect(await cluster.llen(`${prefix}:{segments}:wait`)).toBe(1);

    // Forgetting the stream deletes its keys in one multi-key DEL, which only one slot allows.
    const register = new StreamRegister(cluster, prefix);
    await register.forget(report.streamId);
    await register.close();
    expect((await allKeys(cluster, prefix)).filter((k) => k.startsWith(`${prefix}:oa:stream:`))).toEqual([]);
    expect(await cluster.smembers(`${prefix}:oa:streams`)).toEqual([]);
  });

  it('fails at start with one line, without the password, when the cluster is absent or is a single Redis', async () => {
    const dead = await freePort();
    const deadConfig = loadConfig({ REDIS_CLUSTER_NODES: `redis://app:s3cret@127.0.0.1:${dead}` });
    const message = await createRuntime(deadConfig).then(
      () => 'started',
      (err: unknown) => (err as Error).message,
    );
    expect(message).toBe(`Redis Cluster unreachable at redis://app:***@127.0.0.1:${dead}: ECONNREFUSED; start the cluster or fix REDIS_CLUSTER_NODES`);

    // The run's single Redis named as a cluster seed: it says why it cannot serve.
    const single = new URL(inject('redisUrl'));
    await expect(createRuntime(loadConfig({ REDIS_CLUSTER_NODES: `${single.hostname}:${single.port || 6379}` }))).rejects.toThrow(/^Redis Cluster unreachable at redis:\/\/.*cluster support disabled/);
  });
});

describe('a Redis Cluster password', () => {
  it('appears in no output of the CLI, stacks on, whether the cluster is unreachable or the variable is bad', async () => {
    const dead = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, ONEADAPT_DEBUG: '1', ONEADAPT_METRICS_PORT: '0' };
    delete env.REDIS_URL;
    const stderrOf = async (nodes: string): Promise<string> => {
      try {
        await promisify(execFile)(process.execPath, ['--import', 'tsx', 'app/cli/main.ts', 'worker'], { env: { ...env, REDIS_CLUSTER_NODES: nodes }, timeout: 60_000 });
        return '';
      } catch (err) {
        return (err as { stderr: string }).stderr;
      }
    };
    const unreachable = await stderrOf(`redis://admin:hunter2-cluster@127.0.0.1:${dead},127.0.0.1:${dead}`);
    expect(unreachable).toContain(`oneadapt: Redis Cluster unreachable at redis://admin:***@127.0.0.1:${dead},127.0.0.1:${dead}: ECONNREFUSED`);
    const bad = (await stderrOf('admin:hunter2-cluster@127.0.0.1:1')) + (await stderrOf('redis://admin:hunter2-cluster@127.0.0.1:1/2'));
    expect(bad).toContain('REDIS_CLUSTER_NODES=(hidden: it holds credentials outside a redis:// URL): entry 1 has credentials but no redis:// scheme');
    expect(bad).toContain('REDIS_CLUSTER_NODES="redis://admin:***@127.0.0.1:1/2": entry 1 has more than host:port');
    expect(`${unreachable}${bad}`).not.toContain('hunter2');
  });
});
