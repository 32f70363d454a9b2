// Ingest process: with a source argument it ingests that source (file or live URL);
// without one it takes archived-footage jobs from the ingest queue.
import { ingestSource } from '../../src/app/live-ingest.js';
import { closeOnSignals, startRoles } from '../../src/app/roles.js';
import { loadConfig } from '../../src/config/config.js';

const config = loadConfig();
const source = process.argv[2];
if (source) {
  const abort = new AbortController();
  closeOnSignals(async () => abort.abort());
  await ingestSource(config, { source, policy: config.policy, auditEvery: 0, signal: abort.signal, log: (l) => console.error(l) });
} else {
  const running = await startRoles(config, ['ingest']);
  closeOnSignals(() => running.close());
}
