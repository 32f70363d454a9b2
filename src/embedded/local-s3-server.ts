import { spawn } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** s3rver accepts requests signed with its built-in account only. */
export const LOCAL_S3_CREDENTIALS = { region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface LocalS3Server {
  /** http://127.0.0.1:<port>; use with forcePathStyle and LOCAL_S3_CREDENTIALS. */
  endpoint: string;
  close(): Promise<void>;
}

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with DES-CBC, which OpenSSL 3 (Node ≥ 17)
 * only offers through its legacy provider; without it every truncated listing fails with
 * ERR_OSSL_EVP_UNSUPPORTED. Providers cannot be loaded at run time, so when this process lacks
 * DES the server runs in a child Node started with --openssl-legacy-provider.
 */
export function desCipherAvailable(): boolean {
  try {
    createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return true;
  } catch {
    return false;
  }
}

// Runs in the child: argv[1] = s3rver's entry point, argv[2] = data directory, argv[3] = 'remove'
// when the directory is temporary (removed if the parent goes away without close()), argv[4] and
// argv[5] the address and port to listen on (port 0: a free one).
const SERVER_SCRIPT = `
const [, entry, directory, cleanup, address, port] = process.argv;
const S3rver = require(entry);
const server = new S3rver({ address, port: Number(port), silent: true, directory });
server.run().then(
  (address) => process.send({ port: address.port }),
  (err) => { process.send({ error: String((err && err.stack) || err) }); process.exit(1); },
);
process.on('disconnect', () => {
  if (cleanup === 'remove') require('fs').rmSync(directory, { recursive: true, force: true });
  process.exit(0);
});
`;

/**
 * Starts an S3-protocol server (s3rver) on a free local port (or `port` on `address`). Data lives
 * in `directory`, or in a fresh temp dir that close() removes. The server exits with this process
 * even without close().
 */
export async function startLocalS3Server(opts: { directory?: string; startTimeoutMs?: number; address?: string; port?: number } = {}): Promise<LocalS3Server> {
  const address = opts.address ?? '127.0.0.1';
  const directory = opts.directory ?? (await mkdtemp(join(tmpdir(), 'oneadapt-s3-')));
  const removeDirectory = () => (opts.directory ? Promise.resolve() : rm(directory, { recursive: true, force: true }));
  const s3rverEntry = createRequire(import.meta.url).resolve('s3rver');
  const flags = desCipherAvailable() ? [] : ['--openssl-legacy-provider'];
  const child = spawn(process.execPath, [...flags, '--input-type=commonjs', '-e', SERVER_SCRIPT, s3rverEntry, directory, opts.directory ? 'keep' : 'remove', address, String(opts.port ?? 0)], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-2000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`local S3 server (s3rver) did not start within ${opts.startTimeoutMs ?? 15_000} ms: ${stderr.trim()}`));
    }, opts.startTimeoutMs ?? 15_000);
    child.once('message', (msg: { port?: number; error?: string }) => {
      clearTimeout(timer);
      if (msg.port) resolve(msg.port);
      else reject(new Error(`local S3 server (s3rver) failed to start: ${msg.error}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`local S3 server (s3rver) exited during start (${signal ?? `code ${code}`}): ${stderr.trim()}`));
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not start the local S3 server: ${err.message}`, { cause: err }));
    });
  }).catch(async (err: unknown) => {
    await removeDirectory();
    throw err;
  });

  // Do not keep the parent's event loop alive for the server's sake.
  child.unref();
  child.channel?.unref();
  (child.stderr as Socket | null)?.unref();

  return {
    // A wildcard bind is reached on loopback from this machine.
    endpoint: `http://${address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address.includes(':') ? `[${address}]` : address}:${port}`,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.ref(); // keep this process alive until the server is gone
        child.kill('SIGTERM');
        await exited;
      }
      await removeDirectory();
    },
  };
}
