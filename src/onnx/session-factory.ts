import * as ort from 'onnxruntime-node';

export interface CreatedSession {
  session: ort.InferenceSession;
  /** Providers actually in use, in preference order. */
  providers: string[];
  /** Why a requested provider was dropped, one line each. */
  warnings: string[];
}

/** Optional session settings; leaving them out gives the sessions the workers use. */
export interface SessionExtras {
  /** Turn on onnxruntime's per-node profiling, written to `<prefix>_<time>.json` on `endProfiling()`. */
  profileFilePrefix?: string;
}

function options(providers: string[], intraOpThreads: number, extras: SessionExtras = {}): ort.InferenceSession.SessionOptions {
  return {
    ...(extras.profileFilePrefix !== undefined ? { enableProfiling: true, profileFilePrefix: extras.profileFilePrefix } : {}),
    executionProviders: providers,
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    // Several sessions share few cores: spinning threads would starve each other.
    extra: { session: { 'intra_op.allow_spinning': '0' } },
  };
}

/**
 * Opens a session on the requested execution providers, falling back to CPU with a
 * warning when a provider is not available on this machine.
 */
export async function createSession(model: string | Uint8Array, requested: string[], intraOpThreads: number, extras: SessionExtras = {}): Promise<CreatedSession> {
  const wanted = requested.length > 0 ? requested : ['cpu'];
  const open = (p: string[]) =>
    typeof model === 'string'
      ? ort.InferenceSession.create(model, options(p, intraOpThreads, extras))
      : ort.InferenceSession.create(model, options(p, intraOpThreads, extras));
  const nonCpu = wanted.filter((p) => p !== 'cpu');
  if (nonCpu.length === 0) return { session: await open(['cpu']), providers: ['cpu'], warnings: [] };
  try {
    return { session: await open([...nonCpu, 'cpu']), providers: [...nonCpu, 'cpu'], warnings: [] };
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return {
      session: await open(['cpu']),
      providers: ['cpu'],
      warnings: [`execution provider(s) ${nonCpu.join(',')} unavailable (${reason}); falling back to cpu`],
    };
  }
}
