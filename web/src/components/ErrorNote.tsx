import { ApiError, describeError } from '../api/errors';

interface Props {
  error: ApiError | { code: string; message: string } | null | undefined;
  onDismiss?: () => void;
}

/** An error with its code, what it means and what to do. */
export function ErrorNote({ error, onDismiss }: Props) {
  if (!error) return null;
  const retryAfter = error instanceof ApiError ? error.retryAfter : null;
  const { title, hint } = describeError(error.code, retryAfter);
  return (
    <div className="error-note" role="alert" data-code={error.code}>
      <div className="error-head">
        <strong>{title}</strong> <code className="error-code">{error.code}</code>
      </div>
      {error.message && <p className="error-message">{error.message}</p>}
      <p className="error-hint">{hint}</p>
      {onDismiss && (
        <button type="button" className="link" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  );
}
