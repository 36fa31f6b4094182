// The pipeline's stages and their progress (docs/api, the seed's map).

export interface StageInfo {
  id: string;
  label: string;
  progress: number;
}

export const STAGES: StageInfo[] = [
  { id: 'queued', label: 'Queued', progress: 0 },
  { id: 'smpl-start', label: '3D pose analysis', progress: 10 },
  { id: 'smpl-pose-complete', label: 'Pose found', progress: 25 },
  { id: 'smpl-mesh-complete', label: 'Body mesh', progress: 40 },
  { id: 'smpl-guidance-complete', label: 'Guidance maps', progress: 50 },
  { id: 'ai-queued', label: 'Render queued', progress: 60 },
  { id: 'ai-processing', label: 'Rendering', progress: 75 },
  { id: 'ai-complete', label: 'Render done', progress: 90 },
  { id: 'finalizing', label: 'Quality check', progress: 95 },
  { id: 'complete', label: 'Preview ready', progress: 100 },
];

export function stageIndex(stage: string | undefined | null): number {
  if (!stage) return -1;
  return STAGES.findIndex((s) => s.id === stage);
}

/** Progress of a stage per the map; null for a stage the map does not know. */
export function stageProgress(stage: string | undefined | null): number | null {
  const i = stageIndex(stage);
  return i < 0 ? null : STAGES[i].progress;
}

/**
 * The progress to show: the server's number when it sends one (clamped),
 * else the stage's; never below the stage's own floor, and 100 once the
 * preview is ready.
 */
export function displayProgress(
  stage: string | undefined | null,
  progress: number | undefined | null,
  status?: string,
): number {
  if (status === 'preview_ready' || status === 'confirmed') return 100;
  const floor = stageProgress(stage) ?? 0;
  if (typeof progress === 'number' && Number.isFinite(progress)) {
    return Math.min(100, Math.max(floor, Math.max(0, progress)));
  }
  return floor;
}

export type StageState = 'done' | 'active' | 'pending' | 'failed';

/** The state of each stage indicator for the current stage and status. */
export function stageStates(current: string | undefined | null, status?: string): StageState[] {
  let ci = stageIndex(current);
  if (status === 'preview_ready' || status === 'confirmed') ci = STAGES.length - 1;
  return STAGES.map((_, i) => {
    if (ci < 0) return i === 0 && status !== 'failed' ? 'active' : 'pending';
    if (i < ci) return 'done';
    if (i === ci) {
      if (status === 'failed' || status === 'cancelled') return 'failed';
      return i === STAGES.length - 1 ? 'done' : 'active';
    }
    return 'pending';
  });
}

/** "12 s", "1 min 5 s"; null for no estimate. */
export function formatEta(seconds: number | null | undefined): string | null {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return null;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  const r = s % 60;
  return r ? `${m} min ${r} s` : `${m} min`;
}

export const TERMINAL_STATUSES = ['confirmed', 'rejected', 'cancelled', 'failed'] as const;

export function isTerminal(status: string | undefined): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status ?? '');
}

/** One stage as the live feed reported it, `atMs` after the modal opened. */
export interface TimelineEntry {
  stage: string;
  attempt: number;
  progress: number;
  atMs: number;
}

/**
 * The timeline with the update appended when it reports a new stage (or the
 * same stage of a new attempt). Updates behind the last entry — replayed
 * history after a fresher one — are ignored, so the timeline only moves on,
 * as the server's progress does.
 */
export function appendStage(
  timeline: TimelineEntry[],
  u: { stage?: string | null; progress?: number | null; attempts?: number | null },
  atMs: number,
): TimelineEntry[] {
  if (!u.stage) return timeline;
  const attempt = typeof u.attempts === 'number' ? u.attempts : 0;
  const progress = typeof u.progress === 'number' ? u.progress : (stageProgress(u.stage) ?? 0);
  const last = timeline.at(-1);
  if (last) {
    if (last.stage === u.stage && last.attempt === attempt) return timeline;
    if (progress < last.progress || (progress === last.progress && attempt < last.attempt)) return timeline;
  }
  return [...timeline, { stage: u.stage, attempt, progress, atMs }];
}

/** A stage's label, or its id when the map does not know it. */
export function stageLabel(stage: string): string {
  return STAGES.find((s) => s.id === stage)?.label ?? stage;
}
