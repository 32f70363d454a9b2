// What the deployment recorded for the given streams, read through the published ports with the
// host's configuration (REDIS_URL, S3_*). Prints one JSON line; exits 1 unless every segment of
// every stream has its report row without an error and its detections in S3.
// Usage: tsx infra/compose-test/results.ts <stream-id>…
import { createRuntime } from '../../app/runtime.js';
import { loadConfig } from '../../src/config/config.js';
import { streamPrefix } from '../../src/storage/keys.js';

const ids = process.argv.slice(2);
if (ids.length === 0) {
  console.error('usage: results.ts <stream-id>…');
  process.exit(2);
}
const rt = await createRuntime(loadConfig());
try {
  let complete = true;
  const streams = [];
  for (const id of ids) {
    const meta = await rt.streams.meta(id);
    const rows = await rt.streams.rows(id);
    const errors = rows.filter((r) => r.error).map((r) => `${r.seq}: ${r.error}`);
    let resultObjects = 0;
    for await (const _key of rt.store.list(`${streamPrefix(id)}results/`)) resultObjects++;
    const total = meta?.totalSegments;
    streams.push({
      stream: id,
      totalSegments: total ?? null,
      rows: rows.length,
      resultObjects,
      errors,
      knobUpdates: (await rt.streams.updates(id)).length,
      bytes: rows.reduce((sum, r) => sum + r.bytes, 0),
      detections: rows.reduce((sum, r) => sum + r.detections, 0),
    });
    if (total === undefined || rows.length < total || resultObjects < total || errors.length > 0) complete = false;
  }
  console.log(JSON.stringify({ complete, streams }));
  process.exitCode = complete ? 0 : 1;
} finally {
  await rt.close();
}
