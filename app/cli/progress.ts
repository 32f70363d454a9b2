/** A one-line progress bar on stderr (only when it is a terminal, else a line per 10%). */
export function progressBar(label: string): { update(done: number, total: number | undefined): void; stop(): void } {
  const tty = process.stderr.isTTY;
  let lastDecile = -1;
  return {
    update(done, total) {
      if (tty) {
        const width = 30;
        const frac = total ? Math.min(1, done / total) : 0;
        const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
        process.stderr.write(`\r${label} ${bar} ${done}/${total ?? '?'} segments`);
      } else if (total) {
        const decile = Math.floor((10 * done) / total);
        if (decile !== lastDecile) {
          lastDecile = decile;
          process.stderr.write(`${label} ${done}/${total} segments\n`);
        }
      }
    },
    stop() {
      if (tty) process.stderr.write('\n');
    },
  };
}
