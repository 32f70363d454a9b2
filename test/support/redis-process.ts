import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, redisAnswersPing } from '../../src/embedded/local-redis.js';

/**
 * A redis-server a fault test can kill and start again on the same port and data dir, with
 * or without its append-only file: a crash it survives, or one that loses everything.
 */
export class RedisProcess {
  private child?: ChildProcess;
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly aof: boolean,
  ) {}

  static async create(opts: { aof: boolean }): Promise<RedisProcess> {
    return new RedisProcess(await freePort(), await mkdtemp(path.join(tmpdir(), 'oneadapt-fault-redis-')), opts.aof);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const persistence = this.aof ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--dir', this.dir, '--maxmemory-policy', 'noeviction', ...persistence], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !(await redisAnswersPing(this.url, 200)); i++) await new Promise((r) => setTimeout(r, 50));
    if (!(await redisAnswersPing(this.url, 500))) throw new Error(`redis-server did not come up on ${this.url}`);
  }

  /** As a crash: SIGKILL, nothing flushed beyond what the AOF already holds. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async close(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}
