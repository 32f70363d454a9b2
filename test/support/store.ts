import { inject } from 'vitest';
import { LOCAL_S3_CREDENTIALS } from '../../src/embedded/local-s3-server.js';
import { createS3Storage, type S3StorageConfig } from '../../src/storage/s3.js';
import type { ObjectStore } from '../../src/storage/types.js';
import { randomPrefix } from './random.js';

/** Config for a fresh random bucket on the run's s3rver (see global-setup). */
export function testStoreConfig(label = 'test'): S3StorageConfig {
  return { endpoint: inject('s3Endpoint'), bucket: randomPrefix(label), ...LOCAL_S3_CREDENTIALS };
}

/** An ObjectStore on a fresh, empty, already created bucket. */
export async function testStore(label = 'test'): Promise<ObjectStore> {
  const store = createS3Storage(testStoreConfig(label));
  await store.ensureBucket();
  return store;
}
