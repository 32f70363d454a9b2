import { describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/embedded/local-redis.js';
import { LOCAL_S3_CREDENTIALS } from '../../src/embedded/local-s3-server.js';
import { createS3Storage, MULTIPART_THRESHOLD } from '../../src/storage/s3.js';
import { randomPrefix } from '../support/random.js';
import { testStore, testStoreConfig } from '../support/store.js';

async function listAll(iterable: AsyncIterable<string>): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of iterable) keys.push(key);
  return keys;
}

describe('S3 object store (s3rver)', () => {
  it('round-trips buffers and strings byte for byte', async () => {
    const store = await testStore('roundtrip');
    const binary = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256));
    await store.put('a/binary.bin', binary, 'application/octet-stream');
    await store.put('a/text.jsonl', '{"x":1}\n{"x":2}\n', 'application/x-ndjson');
    expect((await store.get('a/binary.bin')).equals(binary)).toBe(true);
    expect((await store.get('a/text.jsonl')).toString('utf8')).toBe('{"x":1}\n{"x":2}\n');
    expect(await store.getIfExists('a/text.jsonl')).toEqual(Buffer.from('{"x":1}\n{"x":2}\n'));
  });

  it('uploads bodies over the threshold in parts', async () => {
    const store = await testStore('multipart');
    const big = Buffer.alloc(MULTIPART_THRESHOLD + 1024 * 1024, 0xab);
    big.writeUInt32BE(0xdeadbeef, big.length - 4);
    await store.put('big.bin', big);
    expect((await store.get('big.bin')).equals(big)).toBe(true);
  });

  it('lists every key under a prefix across pages, in order', async () => {
    const store = await testStore('list');
    const keys = Array.from({ length: 30 }, (_, i) => `streams/s/segments/${String(i).padStart(6, '0')}.mp4`);
    await Promise.all(keys.map((key) => store.put(key, 'x')));
    await store.put('streams/other/segments/000000.mp4', 'x');
    expect(await listAll(store.list('streams/s/', { pageSize: 7 }))).toEqual(keys);
    expect(await listAll(store.list('streams/s/'))).toEqual(keys);
    expect(await listAll(store.list('nothing-here/'))).toEqual([]);
  });

  it('says which object is missing', async () => {
    const store = await testStore('missing');
    await expect(store.get('no/such.key')).rejects.toThrow(`object not found: s3://${store.bucket}/no/such.key`);
    expect(await store.getIfExists('no/such.key')).toBeUndefined();
  });

  it('deletes idempotently', async () => {
    const store = await testStore('delete');
    await store.put('k', 'v');
    await store.delete('k');
    await store.delete('k');
    expect(await store.getIfExists('k')).toBeUndefined();
  });

  it('creates buckets idempotently and names a missing one', async () => {
    const config = testStoreConfig('ensure');
    const store = createS3Storage(config);
    await expect(store.get('k')).rejects.toThrow(`bucket not found: s3://${config.bucket}`);
    await store.ensureBucket();
    await store.ensureBucket();
    await store.put('k', 'v');
    expect((await store.get('k')).toString()).toBe('v');
  });

  it('fails fast with one line when the endpoint is unreachable', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const store = createS3Storage({ endpoint, bucket: randomPrefix('dead'), ...LOCAL_S3_CREDENTIALS });
    const started = Date.now();
    await expect(store.put('k', 'v')).rejects.toThrow(`S3 endpoint unreachable at ${endpoint}: ECONNREFUSED`);
    await expect(store.ensureBucket()).rejects.toThrow(`S3 endpoint unreachable at ${endpoint}: ECONNREFUSED`);
    await expect(listAll(store.list(''))).rejects.toThrow(`S3 endpoint unreachable at ${endpoint}`);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('names rejected credentials', async () => {
    const store = createS3Storage({ ...testStoreConfig('denied'), accessKeyId: 'wrong', secretAccessKey: 'wrong' });
    await expect(store.get('k')).rejects.toThrow(/denied \(InvalidAccessKeyId\): check the access key/);
  });

  it('uses the endpoint the global setup provides', () => {
    expect(inject('s3Endpoint')).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
