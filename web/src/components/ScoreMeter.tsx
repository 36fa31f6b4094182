import { useEffect, useState } from 'react';
import { meterColour, toPercent, METER_LABELS } from '../lib/meters';

interface Props {
  label: string;
  score: number | null | undefined;
  /** Pass mark as a fraction; null when not known. */
  threshold?: number | null;
  testId?: string;
}

/** An animated meter: fills from 0 to the score on mount. */
export function ScoreMeter({ label, score, threshold, testId }: Props) {
  const value = toPercent(score);
  const colour = meterColour(score);
  const [shown, setShown] = useState(0);
  useEffect(() => {
    if (value == null) return;
    const reduce = typeof window !== 'undefined' && window.matchMedia?.('(prefers-reduced-motion: reduce)').matches;
    if (reduce) {
      setShown(value);
      return;
    }
    let raf = 0;
    const start = performance.now();
    const dur = 900;
    const step = (t: number) => {
      const k = Math.min(1, (t - start) / dur);
      const eased = 1 - Math.pow(1 - k, 3);
      setShown(value * eased);
      if (k < 1) raf = requestAnimationFrame(step);
    };
    raf = requestAnimationFrame(step);
    return () => cancelAnimationFrame(raf);
  }, [value]);

  const passMark = toPercent(threshold ?? null);
  const passes = value != null && passMark != null ? value >= passMark - 1e-9 : null;
  return (
    <div className={`meter meter-${colour}`} data-testid={testId} data-colour={colour} data-value={value == null ? '' : Math.round(value)}>
      <div className="meter-head">
        <span className="meter-label" id={testId ? `${testId}-label` : undefined}>{label}</span>
        <span className="meter-value">{value == null ? 'not measured' : `${Math.round(shown)} %`}</span>
        {passes != null && (
          <span className={`pass ${passes ? 'yes' : 'no'}`} aria-label={passes ? 'passes' : 'fails'}>
            {passes ? '✓ pass' : '✗ fail'}
          </span>
        )}
      </div>
      <div
        className="meter-track"
        role="meter"
        aria-labelledby={testId ? `${testId}-label` : undefined}
        aria-label={testId ? undefined : label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={value == null ? undefined : Math.round(value)}
        aria-valuetext={value == null ? 'not measured' : `${Math.round(value)} %, ${METER_LABELS[colour].toLowerCase()}`}
      >
        <div className="meter-fill" style={{ width: `${shown}%` }} />
        {passMark != null && <div className="meter-mark" style={{ left: `${passMark}%` }} title={`pass mark ${Math.round(passMark)} %`} />}
      </div>
    </div>
  );
}
