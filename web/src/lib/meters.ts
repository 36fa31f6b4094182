// Score meters of the consistency seed's UI guide: green ≥ 80 %, yellow
// 60–79 %, red < 60 %.

export type MeterColour = 'green' | 'yellow' | 'red' | 'none';

/**
 * A score as a percentage 0–100. The API sends fractions (0.82); a value
 * above 1 is taken to be a percentage already. null/undefined/NaN → null.
 */
export function toPercent(score: number | null | undefined): number | null {
  if (score == null || typeof score !== 'number' || !Number.isFinite(score)) return null;
  const pct = score > 1 ? score : score * 100;
  return Math.min(100, Math.max(0, pct));
}

/** The colour of a meter for a score (fraction or percentage). */
export function meterColour(score: number | null | undefined): MeterColour {
  const pct = toPercent(score);
  if (pct == null) return 'none';
  // Compare on the rounded percentage so "80 %" on screen is always green.
  const shown = Math.round(pct);
  if (shown >= 80) return 'green';
  if (shown >= 60) return 'yellow';
  return 'red';
}

export const METER_LABELS: Record<MeterColour, string> = {
  green: 'Excellent',
  yellow: 'Acceptable',
  red: 'Needs improvement',
  none: 'Not measured',
};
