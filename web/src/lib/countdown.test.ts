import { describe, expect, it } from 'vitest';
import { countdownFraction, secondsLeft } from './countdown';

describe('secondsLeft', () => {
  const at = '2026-12-01T10:00:30Z';
  const t0 = Date.parse('2026-12-01T10:00:00Z');
  it('counts whole seconds up to the deadline', () => {
    expect(secondsLeft(at, t0)).toBe(30);
    expect(secondsLeft(at, t0 + 100)).toBe(30);
    expect(secondsLeft(at, t0 + 1000)).toBe(29);
    expect(secondsLeft(at, t0 + 29_001)).toBe(1);
    expect(secondsLeft(at, t0 + 30_000)).toBe(0);
  });
  it('never goes negative', () => {
    expect(secondsLeft(at, t0 + 60_000)).toBe(0);
  });
  it('handles offsets and no deadline', () => {
    expect(secondsLeft('2026-12-01T11:00:30+01:00', t0)).toBe(30);
    expect(secondsLeft(null, t0)).toBeNull();
    expect(secondsLeft('garbage', t0)).toBeNull();
  });
});

describe('countdownFraction', () => {
  it('is 0–1', () => {
    expect(countdownFraction(30)).toBe(1);
    expect(countdownFraction(15)).toBe(0.5);
    expect(countdownFraction(45)).toBe(1);
    expect(countdownFraction(null)).toBe(0);
  });
});
