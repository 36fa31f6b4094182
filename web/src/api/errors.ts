import type { ApiErrorBody } from './types';

/** An error answer of the API, or a network failure (`NETWORK`). */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  /** Seconds, from `Retry-After` (429). */
  readonly retryAfter: number | null;

  constructor(code: string, message: string, status: number, retryAfter: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

const STATUS_CODES: Record<number, string> = {
  401: 'AUTH_001',
  403: 'AUTH_002',
  404: 'NOT_FOUND',
  409: 'STATE_409',
  413: 'IMG_007',
  429: 'RATE_429',
};

/** `Retry-After` as seconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value == null || value.trim() === '') return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return null;
  return Math.max(0, Math.ceil((t - now) / 1000));
}

function isErrorBody(v: unknown): v is ApiErrorBody {
  return (
    typeof v === 'object' && v !== null && typeof (v as ApiErrorBody).code === 'string'
  );
}

/**
 * Turns an error answer into an ApiError. Understands the contract's
 * `{"error": {"code", "message"}}`, tolerates a bare `{"code","message"}` or
 * `{"error": "text"}`, and falls back to the HTTP status for anything else
 * (an HTML page from a proxy, an empty body).
 */
export function parseApiError(
  status: number,
  bodyText: string,
  retryAfterHeader: string | null = null,
): ApiError {
  const retryAfter = parseRetryAfter(retryAfterHeader);
  let code = STATUS_CODES[status] ?? `HTTP_${status}`;
  let message = '';
  if (bodyText) {
    try {
      const json: unknown = JSON.parse(bodyText);
      const inner = (json as { error?: unknown } | null)?.error;
      if (isErrorBody(inner)) {
        code = inner.code;
        message = typeof inner.message === 'string' ? inner.message : '';
      } else if (typeof inner === 'string') {
        message = inner;
      } else if (isErrorBody(json)) {
        code = json.code;
        message = typeof json.message === 'string' ? json.message : '';
      }
    } catch {
      const text = bodyText.trim();
      if (text && !text.startsWith('<')) message = text.slice(0, 300);
    }
  }
  if (!message) message = `The server answered ${status}.`;
  return new ApiError(code, message, status, retryAfter);
}

export function networkError(cause: unknown): ApiError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new ApiError('NETWORK', `Could not reach the server (${detail}).`, 0);
}

/** What the user can do about an error code (the seed's error table + ours). */
const HINTS: Record<string, { title: string; hint: string }> = {
  VAL_001: { title: 'Validation timeout', hint: 'Try again, or choose a lower quality tier.' },
  GEN_002: { title: 'Generation failed', hint: 'The renderer failed. Try again; if it keeps failing, ask the operator to check the provider.' },
  RET_003: { title: 'Max retries exceeded', hint: 'The quality bar was not met. Choose a lower tier or use a clearer photo and garment image.' },
  IMG_004: { title: 'Invalid image format', hint: 'Use a JPEG, PNG or WebP file.' },
  MOD_005: { title: 'Model not found', hint: 'Pick another model or avatar.' },
  POS_006: { title: 'Invalid pose', hint: 'Choose a pose the model offers.' },
  IMG_007: { title: 'Image too large', hint: 'Use a smaller image (fewer pixels or a smaller file).' },
  GAR_008: { title: 'No garment found', hint: 'Use a photo of one whole garment on a plain background, or a cut-out PNG.' },
  AST_009: { title: 'Asset unavailable', hint: 'A model file is missing on the server. Ask the operator to install the assets.' },
  PER_010: { title: 'No person found', hint: 'Use a photo with one person, fully visible, facing the camera.' },
  INF_011: { title: 'Inference failed', hint: 'The server could not run a model. Try again later or ask the operator.' },
  BOD_012: { title: 'Body fit failed', hint: 'Use a front-facing, full-body photo with arms away from the body.' },
  CFG_013: { title: 'Invalid configuration', hint: 'The server is misconfigured. Ask the operator.' },
  IO_014: { title: 'I/O error', hint: 'The server could not read or write a file. Try again later.' },
  AUTH_001: { title: 'Not signed in', hint: 'Sign in again with a valid API key.' },
  AUTH_002: { title: 'Not allowed', hint: 'This needs the admin role.' },
  NOT_FOUND: { title: 'Not found', hint: 'It may have been deleted. Refresh the list.' },
  RATE_429: { title: 'Too many requests', hint: 'Wait a moment and try again.' },
  SSRF_001: { title: 'Address refused', hint: 'Upload the file instead of linking to it.' },
  STATE_409: { title: 'Not possible now', hint: 'The session moved on. It has been reloaded.' },
  NETWORK: { title: 'Server unreachable', hint: 'Check the connection and that garmax serve is running.' },
  // The server's own codes (crates/garmax-core/src/error.rs).
  SAF_015: { title: 'Content blocked', hint: "The provider refused this image or garment. Try another photo." },
  LIM_016: { title: 'Render limit reached', hint: 'Too many try-ons are running or were made today. Wait and try again.' },
  BUD_017: { title: 'Budget exhausted', hint: "Today's rendering budget is spent. Try again tomorrow or ask the operator." },
  PRV_018: { title: 'Provider unavailable', hint: 'No render provider could take the job. Try again later.' },
  REQ_019: { title: 'Invalid request', hint: 'Check the settings and try again.' },
  AUTH_020: { title: 'Not signed in', hint: 'Sign in again with a valid API key.' },
  AUTH_021: { title: 'Not allowed', hint: 'This needs the admin role.' },
  NOT_022: { title: 'Not found', hint: 'It may have been deleted. Refresh the list.' },
  STA_023: { title: 'Not possible now', hint: 'The session moved on. It has been reloaded.' },
  LIM_024: { title: 'Too many requests', hint: 'Wait a moment and try again.' },
  URL_025: { title: 'Address refused', hint: 'Upload the file instead of linking to it.' },
  DB_027: { title: 'Database unavailable', hint: 'The server cannot reach its database. Try again shortly.' },
  OBJ_028: { title: 'Storage unavailable', hint: 'The server cannot reach its file storage. Try again shortly.' },
  REQ_029: { title: 'Upload too large', hint: 'Use a smaller file.' },
  PAY_030: { title: 'Not enough credits', hint: 'Choose a lower render quality or add credits.' },
  QUO_031: { title: 'Monthly quota exceeded', hint: "Your plan's try-ons for this period are used up. Upgrade or wait for the next period." },
  PAY_032: { title: 'Refund window closed', hint: 'A try-on can be refunded within 5 minutes of the charge.' },
};

/** Codes a `Retry-After` makes sense for: the wait is shown. */
const WAITS = new Set(['RATE_429', 'LIM_024', 'LIM_016', 'QUO_031']);

function formatWait(secs: number): string {
  if (secs < 120) return `${secs} s`;
  if (secs < 7200) return `${Math.round(secs / 60)} min`;
  if (secs < 172800) return `${Math.round(secs / 3600)} h`;
  return `${Math.round(secs / 86400)} days`;
}

export function describeError(code: string, retryAfter?: number | null): { title: string; hint: string } {
  const known = HINTS[code];
  const base = known ?? { title: 'Error', hint: 'Try again. If it keeps happening, tell the operator the code.' };
  if (WAITS.has(code) && retryAfter != null) {
    return { ...base, hint: `${base.hint} (Wait ${formatWait(retryAfter)}.)` };
  }
  if (!known && /^HTTP_5\d\d$/.test(code)) {
    return { title: 'Server error', hint: 'Try again later; tell the operator if it persists.' };
  }
  if (!known && code === 'HTTP_402') {
    return { title: 'Not enough credits', hint: 'Choose a lower render quality or add credits.' };
  }
  return base;
}
