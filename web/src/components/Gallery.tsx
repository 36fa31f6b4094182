import { useCallback, useEffect, useState } from 'react';
import type { Session } from '../api/types';
import { ApiError } from '../api/errors';
import { useApi } from '../hooks/useApi';
import { useAuthedUrl } from '../hooks/useAuthedUrl';
import { when, shortId } from '../lib/format';
import { tierOf } from '../lib/quality';
import { ErrorNote } from './ErrorNote';

interface Props {
  onOpen(sessionId: string): void;
  /** Bumped by the app to reload (e.g. after a session ended). */
  version: number;
}

export function Gallery({ onOpen, version }: Props) {
  const api = useApi();
  const [items, setItems] = useState<Session[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);

  const load = useCallback(
    async (after?: string | null) => {
      setLoading(true);
      try {
        const page = await api.listSessions(24, after);
        setItems((old) => (after ? [...old, ...(page.items ?? [])] : page.items ?? []));
        setCursor(page.nextCursor ?? null);
      } catch (e) {
        setError(e instanceof ApiError ? e : new ApiError('NETWORK', String(e), 0));
      } finally {
        setLoading(false);
      }
    },
    [api],
  );
  useEffect(() => {
    void load();
  }, [load, version]);

  return (
    <main id="main" tabIndex={-1} className="gallery-page">
      <div className="page-head">
        <h1>Your try-ons</h1>
        <button type="button" onClick={() => load()} disabled={loading}>
          Refresh
        </button>
      </div>
      <ErrorNote error={error} onDismiss={() => setError(null)} />
      {!loading && items.length === 0 && <p className="muted">No sessions yet. Start one in the studio.</p>}
      <ul className="gallery" aria-label="Sessions">
        {items.map((s) => (
          <GalleryItem key={s.sessionId} session={s} onOpen={() => onOpen(s.sessionId)} />
        ))}
      </ul>
      {cursor && (
        <button type="button" onClick={() => load(cursor)} disabled={loading}>
          Load more
        </button>
      )}
    </main>
  );
}

function GalleryItem({ session, onOpen }: { session: Session; onOpen(): void }) {
  const api = useApi();
  const path =
    session.status === 'confirmed'
      ? session.resultUrl ?? api.resultUrl(session.sessionId)
      : session.status === 'preview_ready'
        ? session.previewUrl ?? api.previewUrl(session.sessionId)
        : null;
  const img = useAuthedUrl(path);
  return (
    <li className="gallery-item" data-status={session.status} data-testid="gallery-item">
      <button type="button" className="gallery-open" onClick={onOpen} aria-label={`Open session ${shortId(session.sessionId)}, ${session.status.replace('_', ' ')}`}>
        {img.url ? <img src={img.url} alt="" /> : <span className="thumb-blank large">{session.status === 'processing' || session.status === 'queued' ? `${session.progress ?? 0} %` : ''}</span>}
      </button>
      <div className="gallery-meta">
        <span className={`badge ${session.status}`}>{session.status.replace('_', ' ')}</span>
        <span className="small">
          {(session.quality ?? '').toUpperCase()} · {tierOf(session.tier).label}
          {session.attempts && session.attempts > 1 ? ` · ${session.attempts} attempts` : ''}
        </span>
        {session.validation?.overallQuality != null && (
          <span className="small">quality {Math.round((session.validation.overallQuality > 1 ? session.validation.overallQuality / 100 : session.validation.overallQuality) * 100)} %</span>
        )}
        <span className="muted small">{when(session.createdAt)}</span>
        {session.error && <span className="small error-text">{session.error.code}</span>}
      </div>
    </li>
  );
}
