import { useState, type FormEvent } from 'react';
import { ApiClient } from '../api/client';
import { ApiError } from '../api/errors';
import type { Me } from '../api/types';
import { ErrorNote } from './ErrorNote';

interface Props {
  onSignedIn(token: string, me: Me): void;
  notice?: string | null;
}

export function SignIn({ onSignedIn, notice }: Props) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const token = key.trim();
    if (!token) return;
    setBusy(true);
    setError(null);
    try {
      const me = await new ApiClient(token).me();
      onSignedIn(token, me);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError('NETWORK', String(err), 0));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin">
      <form className="card signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title" className="brand">garmax studio</h1>
        <p className="muted">Virtual try-on. Sign in with the API key you got from <code>garmax users create</code>.</p>
        {notice && <p className="notice" role="status">{notice}</p>}
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(e) => setKey(e.target.value)}
          required
        />
        <p className="muted small">Kept in this tab's session storage only.</p>
        <button type="submit" className="primary" disabled={busy || !key.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <ErrorNote error={error} />
      </form>
    </main>
  );
}
