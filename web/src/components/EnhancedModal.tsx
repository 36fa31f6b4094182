import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/errors';
import type { JobAnswer } from '../api/client';
import type { EnhancedResult, Session, Tier } from '../api/types';
import { useApi } from '../hooks/useApi';
import { useModalFocus } from '../hooks/useModalFocus';
import { useAuthedUrl } from '../hooks/useAuthedUrl';
import { ENHANCED_STAGES, enhancedStageStates, jobEnded } from '../lib/enhanced';
import { createFeed, type Transport, type TransportName } from '../lib/live';
import { browserTransports } from '../lib/liveDefaults';
import { tierOf } from '../lib/quality';
import { displayProgress } from '../lib/stages';
import { ErrorNote } from './ErrorNote';
import { mergeUpdate } from './ProcessingModal';
import { SessionRating } from './RatingStars';
import { ScoreMeters } from './ScoreMeters';

const asError = (e: unknown) => (e instanceof ApiError ? e : new ApiError('NETWORK', String(e), 0));
const TRANSPORT_LABEL: Record<string, string> = { socket: 'socket.io', sse: 'server-sent events', poll: 'polling' };

interface Props {
  jobId: string;
  tier: Tier;
  onClose(): void;
  /** The live feed's transports (socket.io → SSE → polling); replaced in tests. */
  transports?: Transport[];
}

/**
 * An enhanced generation, in the processing modal's style: live stages
 * (the generation is a session, so its events come over the same socket.io
 * / SSE feed), then the seed's answer from GET /api/enhanced-tryon/jobs/{id}
 * with the same six meters.
 */
export function EnhancedModal({ jobId, tier, onClose, transports }: Props) {
  const api = useApi();
  const [session, setSession] = useState<Session | null>(null);
  const [result, setResult] = useState<EnhancedResult | null>(null);
  const [transport, setTransport] = useState<{ name: TransportName | 'none'; open: boolean }>({ name: 'none', open: false });
  const [error, setError] = useState<ApiError | null>(null);
  const dialog = useRef<HTMLDivElement>(null);

  const readAnswer = useCallback(async (): Promise<JobAnswer | null> => {
    try {
      const a = await api.enhancedJob(jobId);
      if (a.state === 'done') setResult(a.result);
      return a;
    } catch (e) {
      setError(asError(e));
      return null;
    }
  }, [api, jobId]);

  useEffect(() => {
    void readAnswer();
    const feed = createFeed(jobId, api.token, transports ?? browserTransports((id) => api.getSession(id)), {
      onUpdate: (u) => setSession((s) => mergeUpdate(s, u)),
      onTransport: (name) => setTransport({ name, open: false }),
      onOpen: (name) => setTransport({ name, open: true }),
    });
    return () => feed.close();
  }, [api, jobId, readAnswer, transports]);

  // The answer is written when the job ends; the live status says when
  // (preview_ready and confirmed follow each other: one read serves both).
  const status = session?.status;
  const ended = jobEnded(status);
  const asked = useRef(false);
  useEffect(() => {
    if (!ended || result || asked.current) return;
    asked.current = true;
    let tries = 0;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      const a = await readAnswer();
      if (a?.state === 'running' && ++tries < 10) timer = setTimeout(poll, 1000);
    };
    void poll();
    return () => clearTimeout(timer);
  }, [ended, result, readAnswer]);

  useModalFocus(dialog, onClose);

  const state = result ? 'done' : status ?? 'loading';
  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="enhanced-title" ref={dialog} tabIndex={-1} data-testid="enhanced-modal" data-status={state} data-session-id={jobId}>
        <div className="modal-head">
          <h2 id="enhanced-title">{result ? 'Your catalogue try-on' : 'Creating your catalogue try-on'}</h2>
          <button type="button" className="icon" onClick={onClose} aria-label="Close (the generation continues)">
            ×
          </button>
        </div>
        {!result && <LiveStages session={session} transport={transport} />}
        {result && <EnhancedAnswer jobId={jobId} result={result} tier={tier} />}
        <ErrorNote error={error} onDismiss={() => setError(null)} />
      </div>
    </div>
  );
}

function LiveStages({ session, transport }: { session: Session | null; transport: { name: string; open: boolean } }) {
  const states = enhancedStageStates(session?.stage, session?.status);
  const progress = displayProgress(null, session?.progress, session?.status);
  return (
    <div className="processing" data-testid="enhanced-progress" data-stage={session?.stage ?? ''}>
      <ol className="stages" aria-label="Generation stages">
        {ENHANCED_STAGES.map((s, i) => (
          <li key={s.id} className={`stage ${states[i]}`} data-stage={s.id} data-state={states[i]} aria-current={states[i] === 'active' ? 'step' : undefined}>
            <span className="dot" aria-hidden="true" />
            <span className="stage-label">{s.label}</span>
            <span className="sr-only">{states[i]}</span>
          </li>
        ))}
      </ol>
      <div className="progress-row">
        <progress max={100} value={progress} aria-label="Progress" />
        <span className="progress-number">{Math.round(progress)} %</span>
      </div>
      <p className="status-message" role="status" aria-live="polite">
        {session?.message ?? 'Waiting for the worker…'}
        {session?.attempts && session.attempts > 1 ? ` (attempt ${session.attempts})` : ''}
      </p>
      <p className="muted small" data-testid="enhanced-transport">
        Live via {transport.name === 'none' ? 'nothing yet' : transport.open ? TRANSPORT_LABEL[transport.name] : 'connecting…'}
      </p>
    </div>
  );
}

function EnhancedAnswer({ jobId, result, tier }: { jobId: string; result: EnhancedResult; tier: Tier }) {
  const api = useApi();
  const image = useAuthedUrl(result.imageUrl ?? (result.validation ? api.resultUrl(jobId) : null));
  const v = result.validation;
  return (
    <div className="preview" data-testid="enhanced-result" data-success={String(result.success)}>
      <div>
        {image.url ? (
          <img src={image.url} alt="Catalogue try-on result" className="result-img" data-testid="enhanced-image" />
        ) : image.error ? (
          <p role="alert">The image could not be loaded ({image.error.code}).</p>
        ) : result.validation ? (
          <p role="status">Loading the image…</p>
        ) : null}
        {image.url && (
          <a className="button" href={image.url} download={`garmax-${jobId}.png`}>
            Download PNG
          </a>
        )}
      </div>
      <section className="scores" aria-labelledby="enhanced-scores-title">
        <h3 id="enhanced-scores-title">
          Quality check{' '}
          {v?.passes != null && (
            <span className={`pass ${v.passes ? 'yes' : 'no'}`} data-testid="overall-verdict">
              {v.passes ? '✓ passes' : '✗ below the pass marks'}
            </span>
          )}
        </h3>
        {result.error && <ErrorNote error={result.error} />}
        {result.error?.code === 'RET_003' && <p className="small">The best attempt is shown.</p>}
        {v && <ScoreMeters validation={v} thresholds={tierOf(tier).thresholds} />}
        <p className="muted small">
          {result.attempts ? `${result.attempts} attempt${result.attempts === 1 ? '' : 's'}` : ''}
          {result.processingTime != null ? ` · ${(result.processingTime / 1000).toFixed(1)} s` : ''}
        </p>
        {result.retryHistory && result.retryHistory.length > 0 && (
          <details>
            <summary>Earlier attempts ({result.retryHistory.length})</summary>
            <ol className="plain-list small">
              {result.retryHistory.map((a) => (
                <li key={a.attempt}>
                  Attempt {a.attempt}: overall {a.overall != null ? `${Math.round(a.overall * 100)} %` : '—'}
                  {a.failed && a.failed.length > 0 ? ` · below the mark: ${a.failed.join(', ')}` : ''}
                </li>
              ))}
            </ol>
          </details>
        )}
      </section>
      {v && (
        <div className="approval">
          <SessionRating sessionId={jobId} />
        </div>
      )}
    </div>
  );
}
