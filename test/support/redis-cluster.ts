import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, redisAnswersPing } from '../../src/embedded/local-redis.js';

const run = promisify(execFile);

/** For describe.skipIf: why no local cluster can be started here, if so. */
export function missingClusterTools(): string | undefined {
  const missing = ['redis-server', 'redis-cli'].filter((bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status !== 0);
  return missing.length > 0 ? `${missing.join(' and ')} not found on PATH (apt-get install redis-server): the Redis Cluster test is skipped` : undefined;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free client port whose cluster bus port (+10000, fixed before Redis 7) is free too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = await freePort();
    if (port + 10_000 > 65_535 || taken.has(port) || taken.has(port + 10_000)) continue;
    if (await portIsFree(port + 10_000)) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

/**
 * Three (or `size`) redis-server masters with cluster mode on, joined by `redis-cli --cluster
 * create`, without persistence, each in a temp dir that close() removes with the servers.
 */
export class LocalRedisCluster {
  private constructor(
    readonly ports: number[],
    private readonly dir: string,
    private readonly children: ChildProcess[],
    private readonly killOnExit: () => void,
  ) {}

  /** Seed list for REDIS_CLUSTER_NODES: the first node as a URL, the others bare. */
  get nodesVariable(): string {
    return this.ports.map((p, i) => (i === 0 ? `redis://127.0.0.1:${p}` : `127.0.0.1:${p}`)).join(',');
  }

  static async start(size = 3, timeoutMs = 30_000): Promise<LocalRedisCluster> {
    const dir = await mkdtemp(path.join(tmpdir(), 'oneadapt-cluster-'));
    const children: ChildProcess[] = [];
    const killOnExit = () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    const taken = new Set<number>();
    const ports: number[] = [];
    const cluster = new LocalRedisCluster(ports, dir, children, killOnExit);
    try {
      for (let i = 0; i < size; i++) {
        const port = await freeClusterPort(taken);
        taken.add(port).add(port + 10_000);
        ports.push(port);
        const nodeDir = path.join(dir, String(port));
        await mkdir(nodeDir);
        const args = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', path.join(nodeDir, 'nodes.conf'), '--cluster-node-timeout', '5000', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dir', nodeDir];
        children.push(spawn('redis-server', args, { stdio: 'ignore' }));
      }
      const deadline = Date.now() + timeoutMs;
      for (const port of ports) {
        while (!(await redisAnswersPing(`redis://127.0.0.1:${port}`, 200))) {
          if (Date.now() > deadline) throw new Error(`cluster node on port ${port} did not answer PING`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: timeoutMs });
      // Every node must see every slot served before a client may rely on its slot map.
      for (const port of ports) {
        const node = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
        try {
          await node.connect();
          while (!/cluster_state:ok/.test(String(await node.cluster('INFO')))) {
            if (Date.now() > deadline) throw new Error(`cluster node on port ${port} did not reach cluster_state:ok`);
            await new Promise((r) => setTimeout(r, 100));
          }
        } finally {
          node.disconnect();
        }
      }
      return cluster;
    } catch (err) {
      await cluster.close();
      throw err;
    }
  }

  /** Stops every server (by its pid) and removes the temp dir. */
  async close(): Promise<void> {
    process.removeListener('exit', this.killOnExit);
    await Promise.all(
      this.children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(child.pid, 'SIGTERM');
        const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await rm(this.dir, { recursive: true, force: true });
  }
}
