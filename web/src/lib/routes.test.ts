import { describe, expect, it } from 'vitest';
import { routeOf, urlOf } from './routes';

describe('routes', () => {
  it('reads the admin dashboard from the path or the hash', () => {
    expect(routeOf('/admin/dashboard', '')).toBe('admin');
    expect(routeOf('/admin/dashboard/', '#/billing')).toBe('admin');
    expect(routeOf('/', '#/admin/dashboard')).toBe('admin');
  });
  it('reads tabs from the hash, the studio by default', () => {
    expect(routeOf('/', '#/billing')).toBe('billing');
    expect(routeOf('/', '#/catalogue')).toBe('catalogue');
    expect(routeOf('/', '#/nowhere')).toBe('studio');
  });
  it('round-trips every route', () => {
    for (const r of ['studio', 'gallery', 'catalogue', 'billing', 'admin'] as const) {
      const u = new URL(urlOf(r), 'http://x');
      expect(routeOf(u.pathname, u.hash)).toBe(r);
    }
  });
});
