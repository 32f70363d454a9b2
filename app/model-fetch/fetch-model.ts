// The one side effect of `oneadapt models pull`: an HTTP(S) download into a file, verified by
// sha256. The file appears only once verified: bytes go to a temporary file in the same folder
// (so the rename is atomic), which any failure removes.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';

export class ModelFetchError extends Error {
  override name = 'ModelFetchError';
}

export interface FetchModelRequest {
  url: string;
  dest: string;
  sha256: string;
  /** Expected size: a server announcing another, or sending more, fails early. */
  bytes?: number;
  /** Longest wait for the response headers or for the next piece of the body. */
  stallTimeoutMs?: number;
  signal?: AbortSignal;
  onStart?: (info: { url: string; total: number | undefined }) => void;
  onProgress?: (received: number, total: number | undefined) => void;
}

export interface FetchModelOutcome {
  /** `present`: dest already held the right bytes; `replaced`: it held others, now overwritten. */
  status: 'present' | 'downloaded' | 'replaced';
  path: string;
  bytes: number;
  /** Where the bytes came from after redirects (absent when present). */
  finalUrl?: string;
}

export const DEFAULT_STALL_TIMEOUT_MS = 30_000;

/** sha256 (hex) and size of a file, or undefined when there is no file. */
export async function sha256File(file: string): Promise<{ sha256: string; bytes: number } | undefined> {
  try {
    if (!(await stat(file)).isFile()) return undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Undoes a failed pull's mkdir: `dir` and its parents up to `top`, as long as they are empty. */
async function removeEmptyDirs(dir: string, top: string): Promise<void> {
  for (let d = dir; d.startsWith(top); d = path.dirname(d)) {
    try {
      await rmdir(d);
    } catch {
      return;
    }
    if (d === top) return;
  }
}

const reason = (err: unknown): string => {
  if (!(err instanceof Error)) return String(err);
  // undici puts the socket-level reason ("other side closed", ECONNREFUSED) in `cause`.
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return cause && cause !== err.message ? `${err.message} (${cause})` : err.message;
};

/** Downloads `url` into `dest` unless dest already hashes to `sha256`; follows redirects. */
export async function fetchModel(req: FetchModelRequest): Promise<FetchModelOutcome> {
  const expected = req.sha256.toLowerCase();
  const existing = await sha256File(req.dest);
  if (existing?.sha256 === expected) return { status: 'present', path: req.dest, bytes: existing.bytes };

  if (req.signal?.aborted) throw new ModelFetchError(`download of ${req.url} stopped: ${reason(req.signal.reason)}`);
  const dir = path.dirname(req.dest);
  const created = await mkdir(dir, { recursive: true });
  // Hidden, unique per attempt: concurrent pulls never share one, and a crash leaves a .part, never a model.
  const tmp = path.join(dir, `.${path.basename(req.dest)}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
  const stallMs = req.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const abort = new AbortController();
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      abort.abort(new Error('stalled'));
    }, stallMs);
  };
  const onOuterAbort = () => abort.abort(req.signal?.reason);

  let received = 0;
  let total: number | undefined;
  let finalUrl = req.url;
  const failure = (what: string) =>
    new ModelFetchError(`download of ${req.url}${finalUrl !== req.url ? ` (redirected to ${finalUrl})` : ''} ${what}`);
  let responded = false;
  const cut = (err: unknown) => {
    const where = responded ? `after ${received} of ${total ?? req.bytes ?? '?'} bytes` : 'before a response';
    if (stalled) return failure(`stalled: no data for ${stallMs / 1000} s ${where}`);
    if (req.signal?.aborted) return failure(`stopped ${where}: ${reason(req.signal.reason)}`);
    return failure(`failed ${where}: ${reason(err)}`);
  };

  let fh: FileHandle;
  try {
    fh = await open(tmp, 'wx');
  } catch (err) {
    if (created) await removeEmptyDirs(dir, created);
    throw new ModelFetchError(`cannot write ${req.dest}: ${reason(err)}`);
  }
  req.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let done = false;
  try {
    arm();
    let res: Response;
    try {
      // identity: the Content-Length then counts the file's own bytes.
      res = await fetch(req.url, { redirect: 'follow', signal: abort.signal, headers: { 'accept-encoding': 'identity' } });
    } catch (err) {
      throw cut(err);
    }
    arm();
    responded = true;
    finalUrl = res.url || req.url;
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      throw failure(`failed: HTTP ${res.status} ${res.statusText}`.trimEnd());
    }
    const length = res.headers.get('content-length');
    const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
    total = length !== null && !encoded ? Number(length) : undefined;
    if (total !== undefined && req.bytes !== undefined && total !== req.bytes) {
      await res.body.cancel().catch(() => undefined);
      throw failure(`failed: the server announces ${total} bytes, expected ${req.bytes} (sha256 ${expected})`);
    }
    req.onStart?.({ url: finalUrl, total: total ?? req.bytes });
    const hash = createHash('sha256');
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        arm();
        received += chunk.length;
        if (req.bytes !== undefined && received > req.bytes) {
          throw new ModelFetchError(`more than the expected ${req.bytes} bytes arrived`);
        }
        hash.update(chunk);
        for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off)).bytesWritten;
        req.onProgress?.(received, total ?? req.bytes);
      }
    } catch (err) {
      throw err instanceof ModelFetchError ? failure(`failed: ${err.message} (sha256 ${expected})`) : cut(err);
    } finally {
      clearTimeout(timer);
    }
    const actual = hash.digest('hex');
    if (actual !== expected) {
      const size = req.bytes !== undefined && received !== req.bytes ? `${received} bytes, expected ${req.bytes}` : `${received} bytes`;
      throw failure(`failed verification: sha256 ${actual}, expected ${expected} (${size})`);
    }
    await fh.sync();
    await fh.close();
    await rename(tmp, req.dest);
    done = true;
    return { status: existing ? 'replaced' : 'downloaded', path: req.dest, bytes: received, finalUrl };
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onOuterAbort);
    if (!done) {
      await fh.close().catch(() => undefined);
      await rm(tmp, { force: true });
      if (created) await removeEmptyDirs(dir, created);
    }
  }
}
