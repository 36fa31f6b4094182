/** Whole seconds left until `autoConfirmAt` (RFC 3339); null when none. */
export function secondsLeft(autoConfirmAt: string | null | undefined, now: number = Date.now()): number | null {
  if (!autoConfirmAt) return null;
  const t = Date.parse(autoConfirmAt);
  if (Number.isNaN(t)) return null;
  return Math.max(0, Math.ceil((t - now) / 1000));
}

/** Fraction of the countdown remaining (for a ring), 0–1. */
export function countdownFraction(left: number | null, total = 30): number {
  if (left == null || total <= 0) return 0;
  return Math.min(1, Math.max(0, left / total));
}

/**
 * When to re-read the session after the deadline: the server confirms
 * on its own schedule, so poll a few times with growing gaps (ms after
 * the deadline).
 */
export const RECHECK_DELAYS_MS = [500, 1500, 3000, 6000, 10000];
