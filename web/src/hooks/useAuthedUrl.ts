import { useEffect, useState } from 'react';
import { useApi } from './useApi';
import { ApiError } from '../api/errors';

export interface AuthedUrl {
  url: string | null;
  error: ApiError | null;
  loading: boolean;
}

/**
 * An API file fetched with the bearer header and exposed as a blob: URL
 * (an <img src> cannot carry the header). Revoked on change and unmount.
 * `version` forces a re-fetch (e.g. a new preview after a retry).
 */
export function useAuthedUrl(path: string | null | undefined, version: unknown = 0): AuthedUrl {
  const api = useApi();
  const [state, setState] = useState<AuthedUrl>({ url: null, error: null, loading: !!path });
  useEffect(() => {
    if (!path) {
      setState({ url: null, error: null, loading: false });
      return;
    }
    let url: string | null = null;
    let cancelled = false;
    setState((s) => ({ ...s, loading: true, error: null }));
    api
      .blob(path)
      .then((b) => {
        if (cancelled) return;
        url = URL.createObjectURL(b);
        setState({ url, error: null, loading: false });
      })
      .catch((e: unknown) => {
        if (cancelled) return;
        setState({ url: null, error: e instanceof ApiError ? e : new ApiError('NETWORK', String(e), 0), loading: false });
      });
    return () => {
      cancelled = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [api, path, version]);
  return state;
}
