// The API client: relative `/api/...` URLs on the page's origin, bearer auth.

import { ApiError, networkError, parseApiError } from './errors';
import type {
  Avatar,
  Balance,
  Checkout,
  CreateSession,
  EnhancedAccepted,
  EnhancedRequest,
  EnhancedResult,
  Garment,
  LedgerEntry,
  Me,
  Page,
  Persona,
  PersonaInput,
  PlanInfo,
  RatingAnswer,
  Session,
} from './types';
import type { AbTest, Analytics, NewAbTest, Providers } from './admin-types';

/** A job's answer: `running` (202) or `done` with the seed's body (200, or 422 RET_003 with the best attempt). */
export type JobAnswer = { state: 'running'; stage?: string; progress?: number } | { state: 'done'; result: EnhancedResult };

/** An endpoint this server may not have: `available: false` on 404. */
export type Optional<T> = { available: true; data: T } | { available: false };

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

  rate(id: string, rating: number): Promise<RatingAnswer> {
    return this.send<RatingAnswer>('POST', `/api/tryon/sessions/${encodeURIComponent(id)}/rating`, { rating });
  }

  // -- billing
  balance(): Promise<Balance> {
    return this.json<Balance>('/api/billing/balance');
  }
  plan(): Promise<PlanInfo> {
    return this.json<PlanInfo>('/api/billing/plan');
  }
  ledger(limit = 20, cursor?: string | null): Promise<Page<LedgerEntry>> {
    const q = new URLSearchParams({ limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    return this.json<Page<LedgerEntry>>(`/api/billing/ledger?${q}`);
  }
  checkout(plan: string): Promise<Checkout> {
    return this.send<Checkout>('POST', '/api/billing/checkout', { plan });
  }

  // -- catalogue and the enhanced try-on
  async models(): Promise<Persona[]> {
    const body = await this.json<{ models: Persona[] }>('/api/models');
    return body.models ?? [];
  }
  poseReferenceUrl(modelId: string, pose: string): string {
    return `/api/models/${encodeURIComponent(modelId)}/poses/${encodeURIComponent(pose)}/reference`;
  }
  generateEnhanced(req: EnhancedRequest): Promise<EnhancedAccepted> {
    const form = new FormData();
    form.append('productImage', req.productImage, req.productImage.name);
    form.append('modelId', req.modelId);
    form.append('pose', req.pose);
    form.append('qualityTier', req.qualityTier);
    form.append('enableRetry', String(req.enableRetry));
    if (req.maxRetries != null) form.append('maxRetries', String(req.maxRetries));
    return this.json<EnhancedAccepted>('/api/enhanced-tryon/generate', { method: 'POST', body: form });
  }
  /**
   * The job's state. A 422 RET_003 is a finished job (its best attempt is
   * in the body), so it is answered, not thrown; other errors throw.
   */
  async enhancedJob(id: string): Promise<JobAnswer> {
    const path = `/api/enhanced-tryon/jobs/${encodeURIComponent(id)}`;
    let res: Response;
    try {
      res = await this.fetchImpl(path, { headers: this.headers({ Accept: 'application/json' }) });
    } catch (e) {
      throw networkError(e);
    }
    const text = await res.text().catch(() => '');
    const body = safeJson(text) as (EnhancedResult & { stage?: string; progress?: number }) | null;
    if (res.status === 202) return { state: 'running', stage: body?.stage, progress: body?.progress };
    if (res.ok || (res.status === 422 && body?.validation)) return { state: 'done', result: body ?? { success: false } };
    if (res.status === 401) this.onUnauthorized?.();
    throw parseApiError(res.status, text, res.headers.get('Retry-After'));
  }

  // -- admin
  analytics(params: { startDate?: string; endDate?: string; includeDetails?: boolean } = {}): Promise<Analytics> {
    const q = new URLSearchParams();
    if (params.startDate) q.set('startDate', params.startDate);
    if (params.endDate) q.set('endDate', params.endDate);
    if (params.includeDetails) q.set('includeDetails', 'true');
    return this.json<Analytics>(`/api/admin/analytics?${q}`);
  }
  providers(): Promise<Providers> {
    return this.json<Providers>('/api/admin/providers');
  }
  async abTests(): Promise<AbTest[]> {
    const body = await this.json<{ tests: AbTest[] }>('/api/admin/ab-tests');
    return body.tests ?? [];
  }
  createAbTest(t: NewAbTest): Promise<AbTest> {
    return this.send<AbTest>('POST', '/api/admin/ab-tests', t);
  }
  async adminModels(): Promise<Persona[]> {
    const body = await this.json<{ models: Persona[] }>('/api/admin/models');
    return body.models ?? [];
  }
  createModel(p: PersonaInput): Promise<Persona> {
    return this.send<Persona>('POST', '/api/admin/models', p);
  }
  deleteModel(id: string): Promise<void> {
    return this.send<void>('DELETE', `/api/admin/models/${encodeURIComponent(id)}`);
  }
  uploadPoseReference(id: string, pose: string, image: File): Promise<Persona> {
    const form = new FormData();
    form.append('image', image, image.name);
    return this.json<Persona>(`/api/admin/models/${encodeURIComponent(id)}/poses/${encodeURIComponent(pose)}/reference`, {
      method: 'POST',
      body: form,
    });
  }
  /**
   * A route this server may lack (system stats, alerts): not available on
   * 404, and also when the answer is not JSON — `garmax serve --web-dir`
   * answers unknown paths, /api ones included, with the studio's
   * index.html (200 text/html).
   */
  async optional<T>(path: string): Promise<Optional<T>> {
    let res: Response;
    try {
      res = await this.raw(path, { headers: { Accept: 'application/json' } });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return { available: false };
      throw e;
    }
    if (!(res.headers.get('Content-Type') ?? '').includes('json')) return { available: false };
    const body = safeJson(await res.text());
    return body === null ? { available: false } : { available: true, data: body as T };
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

function safeJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
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
