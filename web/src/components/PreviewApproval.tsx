import { useEffect, useRef } from 'react';
import type { Session } from '../api/types';
import { useApi } from '../hooks/useApi';
import { useAuthedUrl } from '../hooks/useAuthedUrl';
import { useNow } from '../hooks/useNow';
import { countdownFraction, secondsLeft, RECHECK_DELAYS_MS } from '../lib/countdown';
import { tierOf } from '../lib/quality';
import { ScoreMeters } from './ScoreMeters';
import { BeforeAfter } from './BeforeAfter';

interface Props {
  session: Session;
  busy: boolean;
  onConfirm(): void;
  onReject(): void;
  /** Re-read the session: the server auto-confirms at `autoConfirmAt`. */
  onDeadline(): Promise<unknown>;
}

export function PreviewApproval({ session, busy, onConfirm, onReject, onDeadline }: Props) {
  const api = useApi();
  const preview = useAuthedUrl(session.previewUrl ?? api.previewUrl(session.sessionId), `${session.attempts ?? 0}`);
  const photo = useAuthedUrl(session.avatarId ? api.avatarFileUrl(session.avatarId, 'photo') : null);
  const now = useNow(250);
  const left = secondsLeft(session.autoConfirmAt, now);
  const v = session.validation ?? null;
  const th = tierOf(session.tier).thresholds;

  // After the deadline, ask the server what it did (it is authoritative).
  const fired = useRef(false);
  useEffect(() => {
    if (left !== 0 || fired.current) return;
    fired.current = true;
    const timers = RECHECK_DELAYS_MS.map((ms) => setTimeout(() => void onDeadline(), ms));
    return () => timers.forEach(clearTimeout);
  }, [left, onDeadline]);


  return (
    <div className="preview" data-testid="preview-approval">
      <BeforeAfter before={photo.url} after={preview.url} />
      <section className="scores" aria-labelledby="scores-title">
        <h3 id="scores-title">
          Quality check{' '}
          {v?.passes != null && (
            <span className={`pass ${v.passes ? 'yes' : 'no'}`} data-testid="overall-verdict">
              {v.passes ? '✓ passes' : '✗ below the pass marks'}
            </span>
          )}
        </h3>
        {v ? (
          <>
            <ScoreMeters validation={v} thresholds={th} />
            <p className="muted small">
              Green ≥ 80 %, yellow 60–79 %, red &lt; 60 %. The marks on the bars are the {tierOf(session.tier).label.toLowerCase()} tier's pass marks.
              {session.attempts && session.attempts > 1 ? ` Best of ${session.attempts} attempts.` : ''}
            </p>
          </>
        ) : (
          <p className="muted" role="status">Scores are loading…</p>
        )}
      </section>
      <div className="approval">
        {left != null && (
          <div className="countdown" role="timer" aria-live="off" data-testid="countdown" data-left={left}>
            <svg viewBox="0 0 36 36" className="ring" aria-hidden="true">
              <circle cx="18" cy="18" r="16" className="ring-bg" />
              <circle cx="18" cy="18" r="16" className="ring-fg" strokeDasharray={`${countdownFraction(left) * 100.5} 100.5`} />
            </svg>
            <span>{left > 0 ? `Auto-confirms in ${left} s` : 'Auto-confirming…'}</span>
          </div>
        )}
        <button type="button" className="primary" onClick={onConfirm} disabled={busy} data-testid="confirm">
          Confirm
        </button>
        <button type="button" onClick={onReject} disabled={busy} data-testid="reject">
          Reject
        </button>
      </div>
    </div>
  );
}
