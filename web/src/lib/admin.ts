// Who may see the admin dashboard, and readers for the system-stats panel
// (whose answer may come in a shape the studio does not know).

import type { Me } from '../api/types';
import { ApiError } from '../api/errors';

export type AdminAccess = 'allowed' | 'denied';

/**
 * The client's gate: the admin role from /api/me. The server stays the
 * authority — a 403 (or 404) from an admin route also means denied.
 */
export function adminAccess(me: Pick<Me, 'role'>, serverError?: unknown): AdminAccess {
  if (serverError instanceof ApiError && (serverError.status === 403 || serverError.status === 404)) return 'denied';
  return me.role === 'admin' ? 'allowed' : 'denied';
}

export interface StatRow {
  key: string;
  value: string;
}

/**
 * Every scalar leaf of a JSON object as "a.b.c" → text, depth-limited; the
 * system-stats route has no settled shape, so the panel shows what comes.
 */
export function flattenStats(value: unknown, prefix = '', depth = 0, out: StatRow[] = []): StatRow[] {
  if (value == null || depth > 4) return out;
  if (typeof value === 'number') {
    out.push({ key: prefix, value: Number.isInteger(value) ? String(value) : value.toFixed(2) });
  } else if (typeof value === 'string' || typeof value === 'boolean') {
    out.push({ key: prefix, value: String(value) });
  } else if (Array.isArray(value)) {
    value.slice(0, 20).forEach((v, i) => flattenStats(v, `${prefix}[${i}]`, depth + 1, out));
  } else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === 'success' && prefix === '') continue;
      flattenStats(v, prefix ? `${prefix}.${k}` : k, depth + 1, out);
    }
  }
  return out;
}

/** Bytes as B/KB/MB/GB/TB (powers of 1024), one decimal above KB. */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = Math.max(0, n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${units[i]}`;
}

/**
 * A load gauge's state against the seed's system-health thresholds (CPU
 * 90 %, memory 85 %): `critical` at or past the threshold, `high` within
 * 15 points of it.
 */
export function loadLevel(percent: number, threshold: number): 'ok' | 'high' | 'critical' {
  if (percent >= threshold) return 'critical';
  if (percent >= threshold - 15) return 'high';
  return 'ok';
}

/** Whether a body is the server's system-stats shape (not some other JSON). */
export function isSystemStats(body: unknown): body is import('../api/admin-types').SystemStats {
  const b = body as Record<string, unknown> | null;
  return !!b && typeof b === 'object' && typeof b.host === 'object' && typeof b.api === 'object' && typeof b.queue === 'object';
}
