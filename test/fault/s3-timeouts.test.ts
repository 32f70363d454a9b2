import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createS3Storage, type S3StorageConfig } from '../../src/storage/s3.js';
import { trackScenarios } from './checker.js';

trackScenarios();

// Everything stays on 127.0.0.1; every server and socket a test opens is closed after it.
const opened: { server: Server; sockets: Set<Socket> }[] = [];

async function listen(server: Server): Promise<string> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  opened.push({ server, sockets });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const { server, sockets } of opened.splice(0)) {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** Accepts connections and never answers (reads and drops whatever arrives). */
async function silentServer(): Promise<{ endpoint: string; connections: () => number }> {
  let connections = 0;
  const server = createTcpServer((socket) => {
    connections++;
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
  });
  return { endpoint: await listen(server), connections: () => connections };
}

/** An S3 stand-in: answers 503 to the first `failures` requests (all of them when Infinity), then succeeds. */
async function flakyServer(failures: number): Promise<{ endpoint: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      requests.push(`${req.method} ${req.url?.split('?')[0]}`);
      if (requests.length <= failures) {
        res.writeHead(503, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>Please reduce your request rate.</Message></Error>');
      } else if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5', etag: '"e"' });
        res.end('hello');
      } else {
        res.writeHead(200, { etag: '"e"', 'content-length': '0' });
        res.end();
      }
    });
  });
  return { endpoint: await listen(server), requests };
}

function storeAt(endpoint: string, limits: Partial<S3StorageConfig>) {
  return createS3Storage({ endpoint, region: 'us-east-1', bucket: 'timeouts', accessKeyId: 'a', secretAccessKey: 'b', ...limits });
}

async function failure(op: Promise<unknown>): Promise<{ message: string; ms: number }> {
  const started = Date.now();
  const err = await op.then(
    () => new Error('expected the operation to fail'),
    (e: unknown) => e as Error,
  );
  return { message: err.message, ms: Date.now() - started };
}

describe('S3 request timeouts', () => {
  it('get, put and ensureBucket against a server that never answers reject, naming the operation, key and timeout', async () => {
    const { endpoint, connections } = await silentServer();
    const store = storeAt(endpoint, { requestTimeoutMs: 300, maxAttempts: 2 });

    const get = await failure(store.get('streams/s/segments/000001.mp4'));
    expect(get.message).toBe(`S3 get s3://timeouts/streams/s/segments/000001.mp4 timed out: no response within 300 ms (2 attempts, endpoint ${endpoint})`);
    expect(connections()).toBe(2);

    const put = await failure(store.put('results/r.jsonl', '{"x":1}\n'));
    expect(put.message).toBe(`S3 put s3://timeouts/results/r.jsonl timed out: no response within 300 ms (2 attempts, endpoint ${endpoint})`);
    expect(connections()).toBe(4);

    const ensure = await failure(store.ensureBucket());
    expect(ensure.message).toBe(`S3 head bucket s3://timeouts timed out: no response within 300 ms (2 attempts, endpoint ${endpoint})`);
    expect(connections()).toBe(6);

    // A bound, not a speed goal: 2 × 300 ms plus back-off, where before nothing ever fired.
    for (const { ms } of [get, put, ensure]) expect(ms).toBeLessThan(5_000);
  });

  it('getIfExists times out too (it does not take a timeout for "missing")', async () => {
    const { endpoint } = await silentServer();
    const { message } = await failure(storeAt(endpoint, { requestTimeoutMs: 300, maxAttempts: 1 }).getIfExists('k'));
    expect(message).toMatch(/^S3 get s3:\/\/timeouts\/k timed out: no response within 300 ms \(1 attempt, /);
  });

  it('a body that stops arriving after the headers fails the get (the connection idle limit)', async () => {
    const server = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000' });
      res.write(Buffer.alloc(10));
    });
    const endpoint = await listen(server);
    const { message, ms } = await failure(storeAt(endpoint, { requestTimeoutMs: 300, maxAttempts: 2 }).get('big'));
    expect(message).toMatch(/^S3 get s3:\/\/timeouts\/big timed out: connection idle for 300 ms \(endpoint http:\/\/127\.0\.0\.1:\d+\)$/);
    expect(ms).toBeLessThan(5_000);
  });

  it('retries a 503 and succeeds when a later attempt does', async () => {
    const server = await flakyServer(1);
    const store = storeAt(server.endpoint, { maxAttempts: 2 });
    expect((await store.get('k')).toString()).toBe('hello');
    expect(server.requests).toEqual(['GET /timeouts/k', 'GET /timeouts/k']);

    await store.put('p', 'body');
    expect(server.requests.slice(2)).toEqual(['PUT /timeouts/p']);
  });

  it('honours the attempts: one attempt does not retry the 503', async () => {
    const server = await flakyServer(1);
    const { message } = await failure(storeAt(server.endpoint, { maxAttempts: 1 }).get('k'));
    expect(message).toMatch(/^S3 get s3:\/\/timeouts\/k failed \(\w+ HTTP 503\): /);
    expect(server.requests).toHaveLength(1);
  });

  it('fails after the configured attempts when every answer is a 503', async () => {
    const server = await flakyServer(Infinity);
    const { message } = await failure(storeAt(server.endpoint, { maxAttempts: 3 }).put('k', 'v'));
    expect(message).toMatch(/^S3 put s3:\/\/timeouts\/k failed \(\w+ HTTP 503\) after 3 attempts: /);
    expect(server.requests).toEqual(['PUT /timeouts/k', 'PUT /timeouts/k', 'PUT /timeouts/k']);
  });

  it('ONEADAPT_S3_TIMEOUT_MS and ONEADAPT_S3_ATTEMPTS reach the store as the runtime builds it', async () => {
    const { endpoint, connections } = await silentServer();
    const config = loadConfig({ S3_ENDPOINT: endpoint, S3_ACCESS_KEY_ID: 'a', S3_SECRET_ACCESS_KEY: 'b', ONEADAPT_S3_TIMEOUT_MS: '400', ONEADAPT_S3_ATTEMPTS: '1' });
    // As app/runtime.ts createRuntime does.
    const store = createS3Storage({ ...config.s3 });
    const { message } = await failure(store.get('k'));
    expect(message).toBe(`S3 get s3://oneadapt/k timed out: no response within 400 ms (1 attempt, endpoint ${endpoint})`);
    expect(connections()).toBe(1);
    expect(() => loadConfig({ ONEADAPT_S3_ATTEMPTS: '0' })).toThrow(/ONEADAPT_S3_ATTEMPTS="0"/);
    expect(() => loadConfig({ ONEADAPT_S3_TIMEOUT_MS: 'soon' })).toThrow(/ONEADAPT_S3_TIMEOUT_MS="soon"/);
  });

  it('rejects nonsense limits when the store is built', () => {
    expect(() => storeAt('http://127.0.0.1:1', { maxAttempts: 0 })).toThrow('S3 maxAttempts must be a positive integer, got 0');
    expect(() => storeAt('http://127.0.0.1:1', { requestTimeoutMs: 1.5 })).toThrow('S3 requestTimeoutMs must be a positive integer, got 1.5');
  });
});
