import { describe, expect, it } from 'vitest';
import { analyticsDays, barLayout, dailySeries, linePath, linearScale, niceMax, seriesFromDaily, ticks } from './charts';
import type { GenerationDetail } from '../api/admin-types';

describe('scales', () => {
  it('maps a domain onto a range, inverted for SVG y', () => {
    const y = linearScale([0, 10], [100, 0]);
    expect(y(0)).toBe(100);
    expect(y(5)).toBe(50);
    expect(y(10)).toBe(0);
    expect(linearScale([3, 3], [7, 9])(3)).toBe(7);
  });
  it('rounds axis tops to 1, 2 or 5 × 10^k', () => {
    expect(niceMax(0.3)).toBeCloseTo(0.5);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(12)).toBe(20);
    expect(niceMax(200)).toBe(200);
    expect(niceMax(0)).toBe(1);
    expect(ticks(10, 2)).toEqual([0, 5, 10]);
  });
});

describe('barLayout', () => {
  it('bottom-aligns bars scaled to max, clamped', () => {
    const bars = barLayout([0, 5, 10, 20], 400, 100, 10, 0);
    expect(bars.map((b) => b.height)).toEqual([0, 50, 100, 100]);
    expect(bars[1]).toMatchObject({ x: 100, width: 100, y: 50 });
  });
});

describe('linePath', () => {
  it('draws through the points and breaks at nulls', () => {
    expect(linePath([0, 1], 100, 50, 1)).toBe('M0 50 L100 0');
    expect(linePath([1, null, 1], 100, 50, 1)).toBe('M0 0 M100 0');
    expect(linePath([0.5], 100, 50, 1)).toBe('M50 25');
  });
});

const detail = (timestamp: string, passes: boolean, overall: number | null, cost = 0.01): GenerationDetail => ({
  sessionId: timestamp,
  modelId: 'eileen',
  pose: 'Front',
  qualityTier: 'standard',
  provider: 'local',
  attempts: 1,
  passes,
  scores: { overall },
  failingMetric: null,
  processingTimeMs: 1000,
  cost,
  errorCode: null,
  timestamp,
});

describe('dailySeries', () => {
  it('groups by UTC day, oldest first, with empty days filled in', () => {
    const s = dailySeries([
      detail('2026-01-03T10:00:00Z', true, 0.9, 0.5),
      detail('2026-01-01T23:59:00Z', false, 0.5),
      detail('2026-01-01T01:00:00Z', true, 0.7),
    ]);
    expect(s.map((d) => d.day)).toEqual(['2026-01-01', '2026-01-02', '2026-01-03']);
    expect(s[0]).toMatchObject({ generations: 2, passed: 1, successRate: 0.5 });
    expect(s[0].meanOverall).toBeCloseTo(0.6);
    expect(s[1]).toMatchObject({ generations: 0, successRate: null, meanOverall: null, cost: 0 });
    expect(s[2].cost).toBeCloseTo(0.5);
  });
  it('is empty without details', () => {
    expect(dailySeries([])).toEqual([]);
  });
});

describe('countAxis', () => {
  it('has whole-number ticks', async () => {
    const { countAxis } = await import('./charts');
    expect(countAxis(1)).toEqual({ top: 1, count: 1 });
    expect(countAxis(3)).toEqual({ top: 3, count: 3 });
    expect(countAxis(7)).toEqual({ top: 8, count: 4 });
    expect(countAxis(37)).toEqual({ top: 40, count: 4 });
    expect(countAxis(0)).toEqual({ top: 1, count: 1 });
    for (const v of [5, 9, 13, 99, 1234]) {
      const { top, count } = countAxis(v);
      expect(top).toBeGreaterThanOrEqual(v);
      expect(Number.isInteger(top / count)).toBe(true);
    }
  });
});

const day = (date: string, generations: number, passed: number, q: number | null, cost: number) => ({
  date,
  generations,
  passed,
  successRate: generations ? passed / generations : 0,
  meanOverallQuality: q,
  meanAttempts: 1.2,
  totalCost: cost,
});

describe('seriesFromDaily', () => {
  it("maps the server's days onto chart points, filling the days it leaves out", () => {
    const s = seriesFromDaily([day('2026-11-29', 4, 3, 0.8, 0.12), day('2026-12-01', 12, 9, null, 0.36)]);
    expect(s.map((d) => d.day)).toEqual(['2026-11-29', '2026-11-30', '2026-12-01']);
    expect(s[0]).toEqual({ day: '2026-11-29', generations: 4, passed: 3, successRate: 0.75, meanOverall: 0.8, cost: 0.12 });
    expect(s[1]).toMatchObject({ generations: 0, successRate: null, meanOverall: null, cost: 0 });
    expect(s[2]).toMatchObject({ successRate: 0.75, meanOverall: null, cost: 0.36 });
  });
  it('orders by date whatever order the rows came in, and skips bad dates', () => {
    const s = seriesFromDaily([day('2026-12-02', 1, 1, 0.9, 0), day('nope', 1, 0, 0.1, 0), day('2026-12-01', 2, 0, 0.4, 0)]);
    expect(s.map((d) => d.day)).toEqual(['2026-12-01', '2026-12-02']);
  });
  it('is empty for no days', () => {
    expect(seriesFromDaily([])).toEqual([]);
  });
});

describe('analyticsDays', () => {
  const details = [detail('2026-01-01T01:00:00Z', true, 0.7)];
  it('prefers daily, even when details are there too', () => {
    const r = analyticsDays({ daily: [day('2026-12-01', 2, 1, 0.5, 0.1)], details });
    expect(r.source).toBe('daily');
    expect(r.days.map((d) => d.day)).toEqual(['2026-12-01']);
  });
  it('an empty daily is an answer (no generations), not a reason to fall back', () => {
    expect(analyticsDays({ daily: [], details })).toEqual({ days: [], source: 'daily' });
  });
  it('falls back to details without daily', () => {
    const r = analyticsDays({ details });
    expect(r.source).toBe('details');
    expect(r.days.map((d) => d.day)).toEqual(['2026-01-01']);
    expect(analyticsDays({}).days).toEqual([]);
  });
});
