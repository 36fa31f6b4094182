// The API client: relative `/api/...` URLs on the page's origin, bearer auth.

import { ApiError, networkError, parseApiError } from './errors';
import type { Avatar, CreateSession, Garment, Me, Page, Session } from './types';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export class ApiClient {
  readonly token: string;
  private readonly fetchImpl: FetchLike;
  /** Called on any 401, so the app can sign out. */
  onUnauthorized: (() => void) | null = null;

  constructor(token: string, fetchImpl?: FetchLike) {
    this.token = token;
    this.fetchImpl = fetchImpl ?? ((i, init) => fetch(i, init));
  }

  private headers(extra?: HeadersInit): Headers {
    const h = new Headers(extra);
    h.set('Authorization', `Bearer ${this.token}`);
    return h;
  }

  /** A raw authorised request; throws ApiError for non-2xx answers. */
  async raw(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchImpl(path, { ...init, headers: this.headers(init.headers) });
    } catch (e) {
      throw networkError(e);
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      const err = parseApiError(res.status, text, res.headers.get('Retry-After'));
      if (res.status === 401) this.onUnauthorized?.();
      throw err;
    }
    return res;
  }

  async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await this.raw(path, {
      ...init,
      headers: { Accept: 'application/json', ...(init.headers as Record<string, string> | undefined) },
    });
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError('BAD_RESPONSE', 'The server sent something that is not JSON.', res.status);
    }
  }

  private send<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.json<T>(path, {
      method,
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  me(): Promise<Me> {
    return this.json<Me>('/api/me');
  }

  // -- avatars
  listAvatars(): Promise<Page<Avatar>> {
    return this.json<Page<Avatar>>('/api/avatars');
  }
  getAvatar(id: string): Promise<Avatar> {
    return this.json<Avatar>(`/api/avatars/${encodeURIComponent(id)}`);
  }
  deleteAvatar(id: string): Promise<void> {
    return this.send<void>('DELETE', `/api/avatars/${encodeURIComponent(id)}`);
  }
  avatarFileUrl(id: string, name: string): string {
    return `/api/avatars/${encodeURIComponent(id)}/files/${encodeURIComponent(name)}`;
  }
  createAvatar(photo: File, onProgress?: (fraction: number) => void): Promise<Avatar> {
    const form = new FormData();
    form.append('photo', photo, photo.name);
    return this.upload<Avatar>('/api/avatars', form, onProgress);
  }

  // -- garments
  listGarments(): Promise<Page<Garment>> {
    return this.json<Page<Garment>>('/api/garments');
  }
  getGarment(id: string): Promise<Garment> {
    return this.json<Garment>(`/api/garments/${encodeURIComponent(id)}`);
  }
  garmentImageUrl(id: string): string {
    return `/api/garments/${encodeURIComponent(id)}/image`;
  }
  createGarment(image: File, onProgress?: (fraction: number) => void): Promise<Garment> {
    const form = new FormData();
    form.append('image', image, image.name);
    return this.upload<Garment>('/api/garments', form, onProgress);
  }

  // -- sessions
  createSession(req: CreateSession): Promise<{ sessionId: string }> {
    return this.send<{ sessionId: string }>('POST', '/api/tryon/sessions', req);
  }
  listSessions(limit = 24, cursor?: string | null): Promise<Page<Session>> {
    const q = new URLSearchParams({ limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    return this.json<Page<Session>>(`/api/tryon/sessions?${q}`);
  }
  getSession(id: string): Promise<Session> {
    return this.json<Session>(`/api/tryon/sessions/${encodeURIComponent(id)}`);
  }
  act(id: string, action: 'confirm' | 'reject' | 'cancel'): Promise<Session> {
    return this.send<Session>('POST', `/api/tryon/sessions/${encodeURIComponent(id)}/${action}`);
  }
  previewUrl(id: string): string {
    return `/api/tryon/sessions/${encodeURIComponent(id)}/preview`;
  }
  resultUrl(id: string): string {
    return `/api/tryon/sessions/${encodeURIComponent(id)}/result`;
  }

  /** A file fetched with the bearer header. */
  async blob(path: string): Promise<Blob> {
    const res = await this.raw(path);
    return res.blob();
  }
  async arrayBuffer(path: string): Promise<ArrayBuffer> {
    const res = await this.raw(path);
    return res.arrayBuffer();
  }

  /** multipart POST with upload progress (XMLHttpRequest where available). */
  upload<T>(path: string, form: FormData, onProgress?: (fraction: number) => void): Promise<T> {
    if (typeof XMLHttpRequest === 'undefined' || !onProgress) {
      return this.json<T>(path, { method: 'POST', body: form });
    }
    return new Promise<T>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', path);
      xhr.setRequestHeader('Authorization', `Bearer ${this.token}`);
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.onprogress = (ev) => {
        if (ev.lengthComputable && ev.total > 0) onProgress(ev.loaded / ev.total);
      };
      xhr.onerror = () => reject(networkError(new Error('upload failed')));
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress(1);
          try {
            resolve(JSON.parse(xhr.responseText) as T);
          } catch {
            reject(new ApiError('BAD_RESPONSE', 'The server sent something that is not JSON.', xhr.status));
          }
        } else {
          if (xhr.status === 401) this.onUnauthorized?.();
          reject(parseApiError(xhr.status, xhr.responseText, xhr.getResponseHeader('Retry-After')));
        }
      };
      xhr.send(form);
    });
  }
}

const KEY = 'garmax.apiKey';

export function loadToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(KEY, token);
    else sessionStorage.removeItem(KEY);
  } catch {
    /* storage disabled: the key lives in memory only */
  }
}
