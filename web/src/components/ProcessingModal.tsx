import { useCallback, useEffect, useRef, useState } from 'react';
import type { Session, StatusUpdate } from '../api/types';
import { ApiError } from '../api/errors';
import { useApi } from '../hooks/useApi';
import { useModalFocus } from '../hooks/useModalFocus';
import { createFeed, type TransportName } from '../lib/live';
import { browserTransports } from '../lib/liveDefaults';
import { STAGES, appendStage, displayProgress, formatEta, stageLabel, stageStates, isTerminal, type TimelineEntry } from '../lib/stages';
import { tierOf, qualityCost } from '../lib/quality';
import { ErrorNote } from './ErrorNote';
import { PreviewApproval } from './PreviewApproval';
import { ResultView } from './ResultView';

interface Props {
  sessionId: string;
  onClose(): void;
  /** The balance may have changed (confirm, reject, failure). */
  onChanged(): void;
}

const asError = (e: unknown) => (e instanceof ApiError ? e : new ApiError('NETWORK', String(e), 0));

/**
 * Whether `u` is older than what `s` already shows. The server's progress
 * never goes backwards within a session, and a retry keeps it while raising
 * `attempts`, so an update behind on (progress, attempts) predates the
 * state — e.g. the history socket.io replays on join, after a fresher read
 * of the session.
 */
export function isStale(s: Session | null, u: StatusUpdate): boolean {
  if (!s || typeof u.progress !== 'number' || typeof s.progress !== 'number') return false;
  if (u.progress !== s.progress) return u.progress < s.progress;
  return typeof u.attempts === 'number' && typeof s.attempts === 'number' && u.attempts < s.attempts;
}

export function mergeUpdate(s: Session | null, u: StatusUpdate): Session {
  if (s && isStale(s, u)) return s;
  const base: Session = s ?? { sessionId: u.sessionId, status: u.status };
  return {
    ...base,
    status: u.status ?? base.status,
    stage: u.stage ?? base.stage,
    progress: typeof u.progress === 'number' ? u.progress : base.progress,
    message: u.message ?? base.message,
    estimatedTime: u.estimatedTime !== undefined ? u.estimatedTime : base.estimatedTime,
    previewUrl: u.previewUrl ?? base.previewUrl,
    error: u.error !== undefined ? u.error : base.error,
    attempts: u.attempts ?? base.attempts,
  };
}

export function ProcessingModal({ sessionId, onClose, onChanged }: Props) {
  const api = useApi();
  const [session, setSession] = useState<Session | null>(null);
  const [transport, setTransport] = useState<{ name: TransportName | 'none'; open: boolean }>({ name: 'none', open: false });
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  // Every stage the live feed reported, as it arrived: the stage indicators
  // show where the session is, the timeline how long each step took.
  const [timeline, setTimeline] = useState<TimelineEntry[]>([]);
  const opened = useRef(performance.now());
  const dialog = useRef<HTMLDivElement>(null);
  const lastRead = useRef(0);
  const pendingRead = useRef<ReturnType<typeof setTimeout> | null>(null);

  const reread = useCallback(async () => {
    lastRead.current = Date.now();
    try {
      const s = await api.getSession(sessionId);
      setSession(s);
      return s;
    } catch (e) {
      setError(asError(e));
      return null;
    }
  }, [api, sessionId]);

  /** Re-read the full session (validation, attempts, autoConfirmAt), at most once a second. */
  const rereadSoon = useCallback(() => {
    if (pendingRead.current) return;
    const wait = Math.max(0, 1000 - (Date.now() - lastRead.current));
    pendingRead.current = setTimeout(() => {
      pendingRead.current = null;
      void reread();
    }, wait);
  }, [reread]);

  useEffect(() => {
    void reread();
    const feed = createFeed(sessionId, api.token, browserTransports((id) => api.getSession(id), rereadSoon), {
      onUpdate(u) {
        const at = performance.now() - opened.current;
        setTimeline((t) => appendStage(t, u, at));
        setSession((s) => {
          const next = mergeUpdate(s, u);
          if (!s || s.status !== next.status || s.attempts !== next.attempts || next.status === 'preview_ready') rereadSoon();
          return next;
        });
      },
      onTransport: (name) => setTransport({ name, open: false }),
      onOpen: (name) => setTransport({ name, open: true }),
    });
    return () => {
      feed.close();
      if (pendingRead.current) clearTimeout(pendingRead.current);
      pendingRead.current = null;
    };
  }, [api, sessionId, reread, rereadSoon]);

  // Terminal states move the balance.
  const status = session?.status;
  useEffect(() => {
    if (status && (isTerminal(status) || status === 'preview_ready')) onChanged();
  }, [status, onChanged]);

  useModalFocus(dialog, onClose);

  const act = async (action: 'confirm' | 'reject' | 'cancel') => {
    setBusy(true);
    setError(null);
    try {
      const s = await api.act(sessionId, action);
      setSession((old) => ({ ...old, ...s }));
      onChanged();
    } catch (e) {
      const err = asError(e);
      setError(err);
      // The server moved on (e.g. auto-confirmed): show what it did.
      if (err.status === 409) await reread();
    } finally {
      setBusy(false);
    }
  };

  const title =
    status === 'preview_ready' ? 'Review your preview' : status === 'confirmed' ? 'Your try-on' : 'Creating your try-on';

  return (
    <div className="modal-backdrop">
      <div
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby="modal-title"
        ref={dialog}
        tabIndex={-1}
        data-testid="processing-modal"
        data-status={status ?? 'loading'}
        data-session-id={sessionId}
      >
        <div className="modal-head">
          <h2 id="modal-title">{title}</h2>
          <button type="button" className="icon" onClick={onClose} aria-label="Close (the session continues)">
            ×
          </button>
        </div>
        {!session && !error && <p role="status">Loading session…</p>}
        {session && (status === 'queued' || status === 'processing') && (
          <ProcessingView session={session} transport={transport} onCancel={() => act('cancel')} busy={busy} />
        )}
        {session && status === 'preview_ready' && (
          <PreviewApproval session={session} busy={busy} onConfirm={() => act('confirm')} onReject={() => act('reject')} onDeadline={reread} />
        )}
        {session && status === 'confirmed' && <ResultView session={session} />}
        {session && status === 'failed' && (
          <div className="terminal">
            <p>The try-on failed{session.attempts ? ` after ${session.attempts} attempt${session.attempts === 1 ? '' : 's'}` : ''}.</p>
            <ErrorNote error={session.error ?? { code: 'GEN_002', message: session.message ?? 'Generation failed.' }} />
          </div>
        )}
        {session && (status === 'rejected' || status === 'cancelled') && (
          <p className="terminal" role="status" data-testid="terminal-status">
            Session {status}. {status === 'rejected' ? 'Start a new one with other settings.' : ''}
          </p>
        )}
        {timeline.length > 0 && <StageTimeline entries={timeline} />}
        <ErrorNote error={error} onDismiss={() => setError(null)} />
      </div>
    </div>
  );
}

/** The stages the live feed reported, each with when it arrived. */
function StageTimeline({ entries }: { entries: TimelineEntry[] }) {
  return (
    <details className="timeline" data-testid="stage-timeline">
      <summary>Timeline ({entries.length} updates received live)</summary>
      <ol>
        {entries.map((e, i) => (
          <li key={`${e.stage}-${e.attempt}-${i}`} data-stage={e.stage} data-attempt={e.attempt}>
            <span className="timeline-at">+{(e.atMs / 1000).toFixed(1)} s</span> {stageLabel(e.stage)}
            {e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}
          </li>
        ))}
      </ol>
    </details>
  );
}

const TRANSPORT_LABEL: Record<string, string> = { socket: 'socket.io', sse: 'server-sent events', poll: 'polling' };

function ProcessingView({
  session,
  transport,
  onCancel,
  busy,
}: {
  session: Session;
  transport: { name: string; open: boolean };
  onCancel(): void;
  busy: boolean;
}) {
  const progress = displayProgress(session.stage, session.progress, session.status);
  const states = stageStates(session.stage ?? (session.status === 'queued' ? 'queued' : undefined), session.status);
  const eta = formatEta(session.estimatedTime);
  const tier = tierOf(session.tier);
  const attempts = session.attempts ?? 0;
  return (
    <div className="processing" data-testid="processing-view" data-stage={session.stage ?? ''}>
      <ol className="stages" aria-label="Pipeline stages">
        {STAGES.map((s, i) => (
          <li key={s.id} className={`stage ${states[i]}`} data-stage={s.id} data-state={states[i]} aria-current={states[i] === 'active' ? 'step' : undefined}>
            <span className="dot" aria-hidden="true" />
            <span className="stage-label">{s.label}</span>
            <span className="sr-only">{states[i]}</span>
          </li>
        ))}
      </ol>
      <div className="progress-row">
        <progress max={100} value={progress} aria-label="Progress" data-testid="session-progress" />
        <span className="progress-number">{Math.round(progress)} %</span>
      </div>
      <p className="status-message" role="status" aria-live="polite" data-testid="status-message">
        {session.message ?? 'Waiting for the worker…'}
      </p>
      <dl className="facts inline-facts">
        <dt>Time left</dt>
        <dd data-testid="eta">{eta ?? `usually ${tier.time}`}</dd>
        <dt>Attempt</dt>
        <dd data-testid="attempts">
          {attempts > 0 ? (
            <span className="attempts" aria-label={`attempt ${attempts}`}>
              {Array.from({ length: Math.min(attempts, 8) }, (_, i) => (
                <span key={i} className={`attempt-dot${i === attempts - 1 ? ' current' : ''}`} aria-hidden="true" />
              ))}{' '}
              {attempts}
              {attempts > 1 ? ' (retrying to meet the pass marks)' : ''}
            </span>
          ) : (
            '—'
          )}
        </dd>
        <dt>Settings</dt>
        <dd>
          {(session.quality ?? 'hd').toUpperCase()} · {tier.label} · {qualityCost(session.quality ?? 'hd')} credits
        </dd>
        <dt>Live via</dt>
        <dd data-testid="transport" data-transport={transport.open ? transport.name : ''}>
          {transport.name === 'none' ? 'offline — reopen to retry' : transport.open ? TRANSPORT_LABEL[transport.name] : 'connecting…'}
        </dd>
      </dl>
      <div className="actions">
        <button type="button" onClick={onCancel} disabled={busy}>
          Cancel session
        </button>
      </div>
    </div>
  );
}
