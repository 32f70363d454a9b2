// S3 stand-in for the compose test: s3rver (a dependency of the image) on :8333, accepting the
// keys in S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY as SeaweedFS does with its identity file.
// Run with --openssl-legacy-provider (s3rver's listing tokens use DES). argv[2]: data dir.
/* global process, console */
import { createRequire } from 'node:module';

const appRequire = createRequire('/app/package.json');
const S3rver = appRequire('s3rver');
const account = appRequire('s3rver/lib/models/account');

const { S3_ACCESS_KEY_ID: key, S3_SECRET_ACCESS_KEY: secret } = process.env;
if (!key || !secret) {
  console.error('s3-standin: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set');
  process.exit(1);
}
account.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
account.DUMMY_ACCOUNT.createKeyPair(key, secret);

// Path-style only: with vhostBuckets, s3rver would take the host name `s3` for a bucket.
const server = new S3rver({ address: '0.0.0.0', port: 8333, silent: true, vhostBuckets: false, directory: process.argv[2] || '/data' });
server.run().then(
  (address) => console.log(`s3-standin: s3rver on ${address.address}:${address.port}`),
  (err) => {
    console.error(`s3-standin: ${err.stack || err}`);
    process.exit(1);
  },
);
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close().then(() => process.exit(0), () => process.exit(1)));
}
