import { describe, expect, it } from 'vitest';
import { adminAccess, flattenStats, formatBytes, isSystemStats, loadLevel } from './admin';
import { ApiError } from '../api/errors';

describe('adminAccess', () => {
  it('allows the admin role only', () => {
    expect(adminAccess({ role: 'admin' })).toBe('allowed');
    expect(adminAccess({ role: 'user' })).toBe('denied');
  });
  it('defers to the server: a 403 denies even an admin role', () => {
    expect(adminAccess({ role: 'admin' }, new ApiError('AUTH_021', 'no', 403))).toBe('denied');
    expect(adminAccess({ role: 'admin' }, new ApiError('NETWORK', 'down', 0))).toBe('allowed');
  });
});

describe('flattenStats', () => {
  it('lists scalar leaves by path', () => {
    const rows = flattenStats({ success: true, cpu: { percent: 12.345 }, queue: { depth: 3 }, workers: ['a'] });
    expect(rows).toEqual([
      { key: 'cpu.percent', value: '12.35' },
      { key: 'queue.depth', value: '3' },
      { key: 'workers[0]', value: 'a' },
    ]);
  });
});

describe('system stats helpers', () => {
  it('formats bytes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(24 * 1024 ** 3)).toBe('24.0 GB');
  });
  it('grades load against a threshold', () => {
    expect(loadLevel(10, 90)).toBe('ok');
    expect(loadLevel(75, 90)).toBe('high');
    expect(loadLevel(90, 90)).toBe('critical');
    expect(loadLevel(86, 85)).toBe('critical');
  });
  it('recognises the system-stats shape', () => {
    expect(isSystemStats({ host: {}, api: {}, queue: {} })).toBe(true);
    expect(isSystemStats({ cpu: 3 })).toBe(false);
    expect(isSystemStats(null)).toBe(false);
  });
});
