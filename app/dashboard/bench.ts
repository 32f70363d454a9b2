import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { redactUrls } from '../../src/redact.js';

/** A bench `--out` folder as the page shows it: summary.md's tables and the PNG plots. */
export interface BenchView {
  /** The folder's name (not its path: the page has no use for the machine's layout). */
  name: string;
  markdown: string | null;
  videos: string[];
  plots: string[];
}

/** Plot names the server hands out: plain file names under plots/, nothing that walks elsewhere. */
const PLOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.png$/;

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Fails with one line unless `dir` looks like a bench output (summary.md or summary.json in it). */
export async function assertBenchDir(dir: string): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new Error(`bench folder not found: ${dir}`);
  const files = await readdir(dir);
  if (!files.includes('summary.md') && !files.includes('summary.json')) throw new Error(`${dir} holds no summary.md or summary.json: expected the --out folder of oneadapt bench`);
}

export async function readBench(dir: string): Promise<BenchView> {
  const [markdown, json, plotFiles] = await Promise.all([
    readIfExists(path.join(dir, 'summary.md')),
    readIfExists(path.join(dir, 'summary.json')),
    readdir(path.join(dir, 'plots')).catch(() => [] as string[]),
  ]);
  let videos: string[] = [];
  try {
    const parsed = json ? (JSON.parse(json) as { videos?: unknown }) : {};
    if (Array.isArray(parsed.videos)) videos = parsed.videos.map((v) => redactUrls(String(v)));
  } catch {
    // A summary.json being rewritten mid-read: the markdown still shows.
  }
  return { name: path.basename(path.resolve(dir)), markdown: markdown === null ? null : redactUrls(markdown), videos, plots: plotFiles.filter((f) => PLOT_NAME.test(f)).sort() };
}

/** The bytes of plots/<name>, or undefined for a name that is not a plot there. */
export async function readBenchPlot(dir: string, name: string): Promise<Buffer | undefined> {
  if (!PLOT_NAME.test(name)) return undefined;
  try {
    return await readFile(path.join(dir, 'plots', name));
  } catch {
    return undefined;
  }
}
