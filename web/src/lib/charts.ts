// Scales and shapes of the admin charts (inline SVG, no chart library), and
// the per-day series: the server's `daily` where it sends one, else derived
// from the analytics' generation details.

import type { Analytics, DailyStat, GenerationDetail } from '../api/admin-types';

/** Maps [d0, d1] onto [r0, r1]; a zero-width domain maps to r0. */
export function linearScale(domain: [number, number], range: [number, number]): (v: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0;
  return (v) => (span === 0 ? r0 : r0 + ((v - d0) / span) * (r1 - r0));
}

/** The smallest 1, 2 or 5 × 10^k at or above `v` (axis tops); 1 for v ≤ 0. */
export function niceMax(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) {
    // The tolerance keeps 0.3 from becoming 0.5 through float noise.
    if (m * p >= v * (1 - 1e-9)) return m * p;
  }
  return 10 * p;
}

/** `count + 1` evenly spaced ticks from 0 to max. */
export function ticks(max: number, count = 4): number[] {
  return Array.from({ length: count + 1 }, (_, i) => (max * i) / count);
}

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Bars for `values` in a width × height box, bottom-aligned, scaled to `max`. */
export function barLayout(values: number[], width: number, height: number, max: number, gap = 4): Bar[] {
  if (values.length === 0) return [];
  const slot = width / values.length;
  const w = Math.max(1, slot - gap);
  const y = linearScale([0, max > 0 ? max : 1], [height, 0]);
  return values.map((v, i) => {
    const top = y(Math.max(0, Math.min(v, max)));
    return { x: i * slot + (slot - w) / 2, y: top, width: w, height: height - top };
  });
}

/**
 * An SVG path through the points of `values` spread over the width; null
 * values break the line (a day without data is not drawn as zero).
 */
export function linePath(values: (number | null)[], width: number, height: number, max: number): string {
  const n = values.length;
  const x = (i: number) => (n <= 1 ? width / 2 : (i * width) / (n - 1));
  const y = linearScale([0, max > 0 ? max : 1], [height, 0]);
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v == null || !Number.isFinite(v)) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${round(x(i))} ${round(y(v))} `;
    pen = true;
  });
  return d.trim();
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

export interface DayPoint {
  /** YYYY-MM-DD, UTC. */
  day: string;
  generations: number;
  passed: number;
  successRate: number | null;
  meanOverall: number | null;
  cost: number;
}

const DAY_MS = 86_400_000;

function utcDay(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/**
 * Per-day counts, pass rate, mean overall score and cost, oldest first,
 * with empty days between the first and the last filled in (so a gap shows
 * as a gap). For servers without `daily`: computed from `details` (the
 * newest 1000 generations).
 */
export function dailySeries(details: GenerationDetail[]): DayPoint[] {
  const byDay = new Map<string, { n: number; passed: number; qSum: number; qN: number; cost: number }>();
  let first = Infinity;
  let last = -Infinity;
  for (const d of details) {
    const t = Date.parse(d.timestamp);
    if (Number.isNaN(t)) continue;
    first = Math.min(first, t);
    last = Math.max(last, t);
    const key = utcDay(t);
    const acc = byDay.get(key) ?? { n: 0, passed: 0, qSum: 0, qN: 0, cost: 0 };
    acc.n += 1;
    if (d.passes) acc.passed += 1;
    const q = d.scores?.overall;
    if (typeof q === 'number' && Number.isFinite(q)) {
      acc.qSum += q;
      acc.qN += 1;
    }
    acc.cost += Number.isFinite(d.cost) ? d.cost : 0;
    byDay.set(key, acc);
  }
  if (!Number.isFinite(first)) return [];
  const out: DayPoint[] = [];
  for (let t = Date.parse(utcDay(first)); t <= last; t += DAY_MS) {
    const day = utcDay(t);
    const a = byDay.get(day);
    out.push({
      day,
      generations: a?.n ?? 0,
      passed: a?.passed ?? 0,
      successRate: a && a.n > 0 ? a.passed / a.n : null,
      meanOverall: a && a.qN > 0 ? a.qSum / a.qN : null,
      cost: a?.cost ?? 0,
    });
  }
  return out;
}

/**
 * An axis for counts: whole-number ticks only (a chart of 1 generation must
 * not label its axis 0, 0, 1, 1, 1), at most about 5 of them.
 */
export function countAxis(v: number): { top: number; count: number } {
  const n = Math.max(1, Math.ceil(Number.isFinite(v) ? v : 1));
  if (n <= 4) return { top: n, count: n };
  const step = Math.max(1, niceMax(n / 4));
  const top = step * Math.ceil(n / step);
  return { top, count: top / step };
}

/**
 * The server's per-day rows as chart points, oldest first, with the days it
 * leaves out (no generations) filled in as gaps, as dailySeries does.
 */
export function seriesFromDaily(daily: DailyStat[]): DayPoint[] {
  const byDay = new Map<string, DailyStat>();
  for (const d of daily) if (!Number.isNaN(Date.parse(`${d.date}T00:00:00Z`))) byDay.set(d.date, d);
  const days = [...byDay.keys()].sort();
  if (days.length === 0) return [];
  const out: DayPoint[] = [];
  const last = Date.parse(`${days[days.length - 1]}T00:00:00Z`);
  for (let t = Date.parse(`${days[0]}T00:00:00Z`); t <= last; t += DAY_MS) {
    const day = utcDay(t);
    const d = byDay.get(day);
    out.push({
      day,
      generations: d?.generations ?? 0,
      passed: d?.passed ?? 0,
      successRate: d && d.generations > 0 ? d.successRate : null,
      meanOverall: d?.meanOverallQuality ?? null,
      cost: d?.totalCost ?? 0,
    });
  }
  return out;
}

/** Where an analytics answer's per-day series comes from. */
export type DaySource = 'daily' | 'details';

/** The per-day series of an analytics answer: `daily` when present, else from `details`. */
export function analyticsDays(a: Pick<Analytics, 'daily' | 'details'>): { days: DayPoint[]; source: DaySource } {
  if (Array.isArray(a.daily)) return { days: seriesFromDaily(a.daily), source: 'daily' };
  return { days: dailySeries(a.details ?? []), source: 'details' };
}
