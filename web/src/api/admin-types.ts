// Shapes of the admin routes (crates/garmax-server/src/routes/
// admin_analytics.rs, abtests.rs, providers.rs). Fields the server may null
// are typed so.

export interface GroupStats {
  key: string;
  generations: number;
  passed: number;
  successRate: number;
  meanOverallQuality: number | null;
  meanAttempts: number;
  totalCost: number;
  processingTimeMs: { p50: number; p95: number };
}

export interface GenerationDetail {
  sessionId: string;
  modelId: string | null;
  pose: string | null;
  qualityTier: string;
  provider: string | null;
  attempts: number;
  passes: boolean;
  scores: Partial<Record<'face' | 'pose' | 'color' | 'style' | 'branding' | 'overall', number | null>>;
  failingMetric: string | null;
  processingTimeMs: number;
  cost: number;
  errorCode: string | null;
  timestamp: string;
}

export interface Analytics {
  success: boolean;
  summary: GroupStats;
  successRates: { byModel: GroupStats[]; byPose: GroupStats[]; byTier: GroupStats[] };
  processingTime: { p50Ms: number; p95Ms: number; meanStageMs: Record<string, number> };
  costs: { total: number; perGeneration: number | null };
  quality: {
    mean: Record<string, number | null>;
    overallDistribution: { from: number; to: number; count: number }[];
  };
  retries: {
    retried: number;
    attemptsDistribution: { attempts: number; count: number }[];
    mostCommonFailingMetric: string | null;
    failingMetrics: { metric: string; count: number }[];
  };
  errors: { code: string; count: number }[];
  ratings: { count: number; mean: number | null; distribution: number[] };
  details?: GenerationDetail[];
  /** Per UTC day, ascending, only days with generations (newer servers). */
  daily?: DailyStat[];
}

/** One day of `Analytics.daily`. */
export interface DailyStat {
  /** YYYY-MM-DD, UTC. */
  date: string;
  generations: number;
  passed: number;
  successRate: number;
  meanOverallQuality: number | null;
  meanAttempts: number;
  totalCost: number;
}

export interface ProviderEndpoint {
  name: string;
  kind: string;
  model?: string | null;
  base_url?: string | null;
  key_env?: string | null;
  has_key: boolean;
  daily_budget_usd?: number | null;
}

export interface ProviderStatus {
  name: string;
  kind: string;
  breaker: 'closed' | 'open' | 'half_open' | string;
  spend_today: { spent_usd: number; reserved_usd: number };
  daily_budget_usd?: number | null;
}

export interface Providers {
  endpoints: ProviderEndpoint[];
  defaultChain: string[];
  splitChain: string[];
  split: { enabled: boolean; percent: number };
  allowBedrockFailover: boolean;
  budgets: Record<string, number | null>;
  status: ProviderStatus[];
  globalSpend: { spent_usd: number; reserved_usd: number };
}

export interface AbVariantResult {
  name: string;
  unappliedParameters: string[];
  generations: number;
  passed: number;
  passRate: number | null;
  passRateCi95: [number, number] | null;
  ratings: number;
  meanRating: number | null;
  meanRatingCi95: [number, number] | null;
}

export interface AbTest {
  id: string;
  name: string;
  variants: { name: string; parameters?: Record<string, unknown> }[];
  duration: number;
  successMetrics: { primaryMetric: 'user_rating' | 'pass_rate' | string; threshold: number };
  startsAt: string;
  endsAt: string;
  status: 'running' | 'ended' | string;
  results: {
    variants: AbVariantResult[];
    test: string;
    minSamplesPerVariant: number;
    pValue: number | null;
    significant: boolean;
    winner: string | null;
  };
}

export interface NewAbTest {
  name: string;
  variants: { name: string; parameters: Record<string, unknown> }[];
  duration: number;
  successMetrics: { primaryMetric: 'user_rating' | 'pass_rate'; threshold: number };
}

/** `GET /api/admin/system-stats` (crates/garmax-server/src/routes/system.rs). */
export interface SystemStats {
  timestamp: string;
  process: { pid: number; cpuPercent: number; memoryBytes: number; uptimeSeconds: number };
  host: { cpus: number; cpuPercent: number; memoryUsedBytes: number; memoryTotalBytes: number; memoryPercent: number };
  disk: { path: string; mountPoint: string; usedBytes: number; totalBytes: number; usedPercent: number } | null;
  queue: {
    queued: number;
    running: number;
    failed: number;
    oldestQueuedSeconds: number;
    byKind: { kind: string; queued: number; oldestReadySeconds: number }[];
  };
  workers: { worker: string; running: number }[];
  api: {
    windowSeconds: number;
    requests: number;
    p50Ms: number;
    p95Ms: number;
    p99Ms: number;
    serverErrorRate: number;
    clientErrorRate: number;
    errorsByCode: Record<string, number>;
  };
}

/** One delivery of an alert's firing or resolution to one channel. */
export interface AlertDelivery {
  channel: 'webhook' | 'email' | string;
  target: string;
  event: 'firing' | 'resolved' | string;
  attempts: number;
  deliveredAt: string | null;
  lastError: string | null;
}

export type AlertType = 'qualityDrop' | 'highCost' | 'systemHealth';

/** One alert of `GET /api/admin/alerts`. */
export interface Alert {
  id: string;
  type: AlertType | string;
  /** "all", or the host the alert is about. */
  subject: string;
  state: 'firing' | 'resolved';
  severity: 'warning' | 'critical' | string;
  message: string;
  value: number | null;
  threshold: number | null;
  firedAt: string;
  resolvedAt: string | null;
  deliveries: AlertDelivery[];
}

/** The thresholds the server evaluates alerts against. */
export interface AlertConfig {
  evaluateEverySecs: number;
  qualityDrop: { threshold: number; timeWindowMs: number; minSamples: number; recipients: string[] };
  highCost: { threshold: number; recipients: string[] };
  systemHealth: { cpuThreshold: number; memoryThreshold: number; recipients: string[] };
  webhooks: number;
  email: boolean;
}

/** `GET /api/admin/alerts?state=…&limit=…`: newest first. */
export interface AlertsResponse {
  alerts: Alert[];
  config: AlertConfig | null;
  lastEvaluatedAt: string | null;
}
