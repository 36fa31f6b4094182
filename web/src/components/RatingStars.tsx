import { useId, useRef, useState } from 'react';
import { ApiError } from '../api/errors';
import { useApi } from '../hooks/useApi';
import { ErrorNote } from './ErrorNote';

interface StarsProps {
  value: number | null;
  onChange(rating: number): void;
  disabled?: boolean;
  legend?: string;
}

const WORDS = ['poor', 'fair', 'good', 'very good', 'excellent'];

/**
 * Five stars as a native radio group: Tab reaches it, arrow keys move and
 * select, screen readers announce "3 stars, good, 3 of 5".
 */
export function RatingStars({ value, onChange, disabled, legend = 'Rate this result' }: StarsProps) {
  const name = useId();
  return (
    <fieldset className="rating" disabled={disabled} data-testid="rating">
      <legend>{legend}</legend>
      <div className="rating-stars">
        {[1, 2, 3, 4, 5].map((n) => (
          <label key={n} className={`star${value != null && n <= value ? ' lit' : ''}`}>
            <input type="radio" name={name} value={n} checked={value === n} onChange={() => onChange(n)} className="visually-hidden-input" />
            <span aria-hidden="true">★</span>
            <span className="sr-only">
              {n} star{n === 1 ? '' : 's'}, {WORDS[n - 1]}
            </span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/** The rating of a confirmed session: saved on the server on each choice. */
export function SessionRating({ sessionId, initial = null }: { sessionId: string; initial?: number | null }) {
  const api = useApi();
  const statusId = useId();
  const [saved, setSaved] = useState<number | null>(initial);
  const [pending, setPending] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  // The stars stay enabled while saving (disabling them would drop the
  // keyboard focus mid-choice); each choice replaces the last on the server,
  // so only the newest request's answer is shown.
  const latest = useRef(0);

  const rate = async (n: number) => {
    const mine = ++latest.current;
    setPending(n);
    setError(null);
    try {
      const answer = await api.rate(sessionId, n);
      if (mine === latest.current) setSaved(answer.rating);
    } catch (e) {
      if (mine === latest.current) setError(e instanceof ApiError ? e : new ApiError('NETWORK', String(e), 0));
    } finally {
      if (mine === latest.current) setPending(null);
    }
  };

  return (
    <div className="session-rating" aria-describedby={statusId}>
      <RatingStars value={pending ?? saved} onChange={(n) => void rate(n)} />
      <p id={statusId} className="muted small" role="status" data-testid="rating-saved" data-rating={saved ?? ''}>
        {pending != null ? 'Saving…' : saved != null ? `Your rating: ${saved} of 5 (saved)` : 'Not rated yet.'}
      </p>
      <ErrorNote error={error} onDismiss={() => setError(null)} />
    </div>
  );
}
