import { createHmac, timingSafeEqual } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/** Tokens shorter than this are refused: a dashboard on the network must not be guessable. */
export const MIN_TOKEN_LENGTH = 16;
export const SESSION_COOKIE = 'oneadapt_dashboard';

export class DashboardAuthError extends Error {
  override name = 'DashboardAuthError';
}

/** 127.0.0.0/8, ::1, localhost: addresses only this machine reaches. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIPv4(h)) return h.startsWith('127.');
  if (isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** Throws, with what to set, when `host` may not be bound with `token` (before anything starts). */
export function checkDashboardBind(host: string, token: string | undefined): void {
  new DashboardAuth(host, token);
}

/** The host name of a Host header (`[::1]:8080` → `::1`, `127.0.0.1:80` → `127.0.0.1`). */
export function hostOfHeader(header: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(header);
  if (m) return m[1];
  return header.replace(/:\d+$/, '');
}

/**
 * Who may do what. Loopback binds serve reads to anyone on the machine (a Host header naming a
 * loopback address is required, so a page from elsewhere cannot reach them by DNS rebinding);
 * any other bind needs the token for everything. Mutating actions always need it: without a
 * token configured they are off.
 */
export class DashboardAuth {
  readonly loopback: boolean;
  private readonly token: Buffer | undefined;
  private readonly session: Buffer | undefined;

  constructor(host: string, token: string | undefined) {
    this.loopback = isLoopbackHost(host);
    if (token !== undefined && token.length < MIN_TOKEN_LENGTH) throw new DashboardAuthError(`ONEADAPT_DASHBOARD_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters`);
    if (!this.loopback && token === undefined) {
      throw new DashboardAuthError(`the dashboard binds ${host}, which is not a loopback address: set ONEADAPT_DASHBOARD_TOKEN (at least ${MIN_TOKEN_LENGTH} characters) or bind 127.0.0.1`);
    }
    this.token = token === undefined ? undefined : Buffer.from(token);
    // The cookie holds a value derived from the token, not the token itself.
    this.session = token === undefined ? undefined : Buffer.from(createHmac('sha256', token).update('oneadapt-dashboard-session').digest('hex'));
  }

  get hasToken(): boolean {
    return this.token !== undefined;
  }

  /** The cookie value a valid `?token=` earns. */
  sessionValue(): string | undefined {
    return this.session?.toString();
  }

  tokenMatches(candidate: string | undefined): boolean {
    return same(this.token, candidate);
  }

  sessionMatches(candidate: string | undefined): boolean {
    return same(this.session, candidate);
  }
}

function same(expected: Buffer | undefined, candidate: string | undefined): boolean {
  if (expected === undefined || candidate === undefined) return false;
  const c = Buffer.from(candidate);
  // Compare digests of equal length: timingSafeEqual refuses unequal lengths, and an early
  // length check would tell the length.
  const a = createHmac('sha256', 'cmp').update(expected).digest();
  const b = createHmac('sha256', 'cmp').update(c).digest();
  return timingSafeEqual(a, b) && c.length === expected.length;
}
