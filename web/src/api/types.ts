// Shapes of docs/api/README.md. Every field the server may omit or null is
// optional here; the UI never assumes more than the contract promises.

export interface ApiErrorBody {
  code: string;
  message: string;
}

export interface Me {
  id: string;
  name: string;
  role: string;
  plan: string;
  credits: number;
}

export type AvatarStatus = 'processing' | 'ready' | 'failed';

export interface Avatar {
  id: string;
  status: AvatarStatus;
  error?: ApiErrorBody | null;
  createdAt?: string;
  files?: string[];
  /** Not in the contract; shown when a server sends it. */
  progress?: number;
  stage?: string;
  message?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}

export interface Garment {
  id: string;
  createdAt?: string;
  /** `garmax analyze --json`; parsed defensively by lib/analysis.ts. */
  analysis?: unknown;
}

export type Quality = 'sd' | 'hd' | '4k';
export type Tier = 'standard' | 'premium' | 'ultra';

export type SessionStatus =
  | 'queued'
  | 'processing'
  | 'preview_ready'
  | 'confirmed'
  | 'rejected'
  | 'cancelled'
  | 'failed';

export interface Validation {
  passes?: boolean;
  overallQuality?: number | null;
  consistency?: { face?: number | null; pose?: number | null };
  accuracy?: { color?: number | null; style?: number | null; branding?: number | null };
  feedback?: string[];
}

export interface Session {
  sessionId: string;
  avatarId?: string;
  garmentId?: string;
  quality?: Quality;
  tier?: Tier;
  status: SessionStatus;
  stage?: string;
  progress?: number;
  message?: string;
  estimatedTime?: number | null;
  validation?: Validation | null;
  attempts?: number;
  previewUrl?: string | null;
  resultUrl?: string | null;
  error?: ApiErrorBody | null;
  createdAt?: string;
  updatedAt?: string;
  autoConfirmAt?: string | null;
  /** The user's rating (1–5) in `GET /api/tryon/sessions/{id}`; null until rated. */
  rating?: number | null;
}

export interface StatusUpdate {
  sessionId: string;
  status: SessionStatus;
  stage?: string;
  progress?: number;
  message?: string;
  estimatedTime?: number | null;
  seq?: number;
  previewUrl?: string | null;
  error?: ApiErrorBody | null;
  attempts?: number;
}

export interface CreateSession {
  avatarId: string;
  garmentId: string;
  quality: Quality;
  preferences: { tier: Tier };
}

// -- billing (crates/garmax-server/src/routes/billing.rs, views.rs)

export interface Balance {
  balance: number;
  currency: string;
}

export interface PlanInfo {
  plan: string;
  planEndsAt?: string | null;
  periodStart: string;
  periodEnd: string;
  limits: { avatarsPerMonth: number; tryonsPerMonth: number; monthlyCredits: number };
  usage: { avatars: number; tryons: number };
  balance: number;
}

export type LedgerKind = 'grant' | 'purchase' | 'hold' | 'capture' | 'release' | 'refund' | 'adjustment';

export interface LedgerEntry {
  id: string;
  kind: LedgerKind | string;
  /** Signed; a capture is 0 (its hold took the credits). */
  amount: number;
  idempotencyKey?: string;
  actor?: string;
  reason?: string;
  subject?: string | null;
  createdAt: string;
}

export interface Checkout {
  id: string;
  url: string;
}

export interface RatingAnswer {
  success: boolean;
  sessionId: string;
  rating: number;
}

// -- catalogue personas and the enhanced try-on (routes/personas.rs, enhanced.rs)

export interface PoseReference {
  pose: string;
  status: AvatarStatus | null;
  imageUrl: string | null;
}

export interface Persona {
  id: string;
  name: string;
  characteristics?: Record<string, string>;
  poses: string[];
  referenceImagePath?: string | null;
  consistencyThreshold: number;
  poseReferences?: PoseReference[];
}

export interface PersonaInput {
  id: string;
  name: string;
  characteristics: Record<string, string>;
  poses: string[];
  consistencyThreshold: number;
}

export interface EnhancedAccepted {
  success: true;
  jobId: string;
  status: SessionStatus;
  stage: string;
  progress: number;
  statusUrl: string;
  eventsUrl: string;
}

export interface RetryAttempt {
  attempt: number;
  overall?: number | null;
  passes?: boolean;
  failed?: string[];
  scores?: Partial<Record<'face' | 'pose' | 'color' | 'style' | 'branding', number | null>>;
  durationMs?: number;
  cost?: number;
}

/** The seed's response; `success:false` with `error` for RET_003 (best attempt attached) and failures. */
export interface EnhancedResult {
  success: boolean;
  imagePath?: string;
  imageUrl?: string;
  validation?: Validation;
  attempts?: number;
  processingTime?: number;
  retryHistory?: RetryAttempt[];
  timestamp?: string;
  error?: ApiErrorBody;
}

export interface EnhancedRequest {
  productImage: File;
  modelId: string;
  pose: string;
  qualityTier: Tier;
  enableRetry: boolean;
  maxRetries?: number;
}
