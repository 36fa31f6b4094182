import { describe, expect, it } from 'vitest';
import { enhancedStageStates, firstRenderable, jobEnded, renderablePoses } from './enhanced';
import type { Persona } from '../api/types';

const persona = (id: string, refs: [string, 'ready' | 'processing' | null][]): Persona => ({
  id,
  name: id,
  poses: refs.map(([p]) => p),
  consistencyThreshold: 0.75,
  poseReferences: refs.map(([pose, status]) => ({ pose, status, imageUrl: status ? `/x/${pose}` : null })),
});

describe('enhancedStageStates', () => {
  it('marks stages before the current one done', () => {
    expect(enhancedStageStates('product-application', 'processing')).toEqual(['done', 'done', 'done', 'active', 'pending', 'pending', 'pending']);
  });
  it('shows an adaptive retry on the validation step', () => {
    expect(enhancedStageStates('adaptive-retry', 'processing')[4]).toBe('active');
  });
  it('is all done once the preview is ready, failed at the stage that failed', () => {
    expect(enhancedStageStates('finalizing', 'confirmed').every((s) => s === 'done')).toBe(true);
    expect(enhancedStageStates('model-generation', 'failed')[2]).toBe('failed');
    expect(enhancedStageStates(undefined, 'queued')[0]).toBe('active');
  });
});

describe('renderable poses', () => {
  it('only offers poses with a ready reference', () => {
    expect(renderablePoses(persona('johny', [['Arms Crossed', null], ['Front', 'ready'], ['Side', 'processing']]))).toEqual(['Front']);
  });
  it('preselects the first persona with one', () => {
    expect(firstRenderable([persona('a', [['x', null]]), persona('b', [['y', 'ready']])])).toEqual({ modelId: 'b', pose: 'y' });
    expect(firstRenderable([persona('a', [['x', null]])])).toBeNull();
  });
  it('knows when a job ended', () => {
    expect(jobEnded('processing')).toBe(false);
    expect(jobEnded('confirmed')).toBe(true);
    expect(jobEnded('failed')).toBe(true);
  });
});
