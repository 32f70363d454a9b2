/** Closes gracefully on SIGTERM/SIGINT (jobs in flight finish; a second signal exits). */
export function closeOnSignals(close: () => Promise<void>, log: (l: string) => void = (l) => console.error(l)): void {
  let closing = false;
  const onSignal = (sig: string) => {
    if (closing) process.exit(1);
    closing = true;
    log(`${sig}: closing`);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`close failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

/**
 * For a job that ends by itself (`run`, `ingest <source>`): the first SIGTERM/SIGINT aborts it,
 * so that it stops cutting segments and closes its servers on the way out; a second one exits.
 */
export function abortOnSignals(abort: AbortController, log: (l: string) => void = (l) => console.error(l)): void {
  const onSignal = (sig: string) => {
    if (abort.signal.aborted) process.exit(1);
    log(`${sig}: stopping`);
    abort.abort(new Error(`stopped by ${sig}`));
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}
