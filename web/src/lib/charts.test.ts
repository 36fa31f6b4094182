import { describe, expect, it } from 'vitest';
import { barLayout, dailySeries, linePath, linearScale, niceMax, ticks } from './charts';
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
