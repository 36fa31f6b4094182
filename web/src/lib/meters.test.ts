import { describe, expect, it } from 'vitest';
import { meterColour, toPercent } from './meters';

describe('meterColour', () => {
  it('uses the UI guide thresholds on fractions', () => {
    expect(meterColour(0.8)).toBe('green');
    expect(meterColour(0.95)).toBe('green');
    expect(meterColour(1)).toBe('green');
    expect(meterColour(0.79)).toBe('yellow');
    expect(meterColour(0.6)).toBe('yellow');
    expect(meterColour(0.599)).toBe('yellow'); // shown as 60 %
    expect(meterColour(0.594)).toBe('red'); // shown as 59 %
    expect(meterColour(0)).toBe('red');
  });
  it('accepts percentages', () => {
    expect(meterColour(80)).toBe('green');
    expect(meterColour(79)).toBe('yellow');
    expect(meterColour(59)).toBe('red');
  });
  it('agrees with the rounded number on screen at the boundary', () => {
    expect(meterColour(0.7996)).toBe('green'); // "80 %"
    expect(meterColour(0.7949)).toBe('yellow'); // "79 %"
  });
  it('has no colour without a score', () => {
    expect(meterColour(null)).toBe('none');
    expect(meterColour(undefined)).toBe('none');
    expect(meterColour(Number.NaN)).toBe('none');
  });
});

describe('toPercent', () => {
  it('clamps and converts', () => {
    expect(toPercent(0.5)).toBe(50);
    expect(toPercent(150)).toBe(100);
    expect(toPercent(-0.2)).toBe(0);
    expect(toPercent(null)).toBeNull();
  });
});
