import type { Session } from '../api/types';
import { useApi } from '../hooks/useApi';
import { useAuthedUrl } from '../hooks/useAuthedUrl';
import { SessionRating } from './RatingStars';

export function ResultView({ session }: { session: Session }) {
  const api = useApi();
  const result = useAuthedUrl(session.resultUrl ?? api.resultUrl(session.sessionId));
  return (
    <div className="result" data-testid="result-view">
      {result.url ? (
        <>
          <img src={result.url} alt="Confirmed try-on result" className="result-img" data-testid="result-image" />
          <a className="button primary" href={result.url} download={`garmax-${session.sessionId}.png`}>
            Download PNG
          </a>
        </>
      ) : result.error ? (
        <p role="alert">The result could not be loaded ({result.error.code}).</p>
      ) : (
        <p role="status">Loading the result…</p>
      )}
      <SessionRating sessionId={session.sessionId} initial={session.rating ?? null} />
    </div>
  );
}
