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
