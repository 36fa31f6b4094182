// The enhanced (catalogue) generation: its five seed stages and progress
// (docs/api "Live progress of a generation"), and which persona poses can
// be rendered.

import type { Persona } from '../api/types';
import type { StageInfo, StageState } from './stages';

export const ENHANCED_STAGES: StageInfo[] = [
  { id: 'queued', label: 'Queued', progress: 0 },
  { id: 'product-analysis', label: 'Product analysis', progress: 10 },
  { id: 'model-generation', label: 'Model generation', progress: 25 },
  { id: 'product-application', label: 'Product application', progress: 50 },
  { id: 'quality-validation', label: 'Quality validation', progress: 70 },
  { id: 'finalizing', label: 'Finalizing', progress: 95 },
  { id: 'complete', label: 'Complete', progress: 100 },
];

/**
 * Where each indicator stands. `adaptive-retry` is not a step of its own:
 * it is quality validation going round again, so it lights that step.
 */
export function enhancedStageStates(stage: string | undefined | null, status?: string): StageState[] {
  const current = stage === 'adaptive-retry' ? 'quality-validation' : stage;
  let ci = ENHANCED_STAGES.findIndex((s) => s.id === current);
  const ended = status === 'preview_ready' || status === 'confirmed';
  if (ended) ci = ENHANCED_STAGES.length - 1;
  return ENHANCED_STAGES.map((_, i) => {
    if (ci < 0) return i === 0 && status !== 'failed' ? 'active' : 'pending';
    if (i < ci) return 'done';
    if (i > ci) return 'pending';
    if (status === 'failed' || status === 'cancelled') return 'failed';
    return i === ENHANCED_STAGES.length - 1 ? 'done' : 'active';
  });
}

/** A pose can be rendered once its reference photo is processed. */
export function renderablePoses(p: Persona): string[] {
  return p.poses.filter((pose) => p.poseReferences?.find((r) => r.pose === pose)?.status === 'ready');
}

/** The first persona and pose that can be rendered, to preselect. */
export function firstRenderable(personas: Persona[]): { modelId: string; pose: string } | null {
  for (const p of personas) {
    const pose = renderablePoses(p)[0];
    if (pose) return { modelId: p.id, pose };
  }
  return null;
}

/** Whether a live status means the job has ended (its answer can be read). */
export function jobEnded(status: string | undefined): boolean {
  return status === 'preview_ready' || status === 'confirmed' || status === 'failed' || status === 'cancelled';
}
