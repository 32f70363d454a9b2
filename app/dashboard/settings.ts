import { PermanentError } from '../../src/errors.js';

/** The dashboard's environment: ONEADAPT_DASHBOARD_PORT (`up`), _HOST, _TOKEN. */
export interface DashboardSettings {
  host: string;
  /** Undefined: off (unset, empty or 0). */
  port?: number;
  token?: string;
}

export class DashboardSettingsError extends PermanentError {
  override name = 'DashboardSettingsError';
}

export function parsePort(value: string, what: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65_535) throw new DashboardSettingsError(`${what} expects a port 0–65535, got ${JSON.stringify(value)}`);
  return n;
}

export function dashboardSettings(env: Readonly<Record<string, string | undefined>> = process.env): DashboardSettings {
  const raw = env.ONEADAPT_DASHBOARD_PORT?.trim();
  const port = raw ? parsePort(raw, 'ONEADAPT_DASHBOARD_PORT') : 0;
  const token = env.ONEADAPT_DASHBOARD_TOKEN || undefined;
  return { host: env.ONEADAPT_DASHBOARD_HOST?.trim() || '127.0.0.1', port: port > 0 ? port : undefined, token };
}
