import { describe, expect, it } from 'vitest';
import { STAGES, appendStage, displayProgress, formatEta, stageLabel, stageProgress, stageStates, isTerminal } from './stages';

describe('stage map', () => {
  it('is the contract map', () => {
    expect(STAGES.map((s) => [s.id, s.progress])).toEqual([
      ['queued', 0],
      ['smpl-start', 10],
      ['smpl-pose-complete', 25],
      ['smpl-mesh-complete', 40],
      ['smpl-guidance-complete', 50],
      ['ai-queued', 60],
      ['ai-processing', 75],
      ['ai-complete', 90],
      ['finalizing', 95],
      ['complete', 100],
    ]);
  });
  it('maps stages to progress', () => {
    expect(stageProgress('ai-processing')).toBe(75);
    expect(stageProgress('nope')).toBeNull();
    expect(stageProgress(undefined)).toBeNull();
  });
});

describe('displayProgress', () => {
  it('prefers the server number but not below the stage floor', () => {
    expect(displayProgress('ai-processing', 80)).toBe(80);
    expect(displayProgress('ai-processing', 20)).toBe(75);
    expect(displayProgress('ai-processing', undefined)).toBe(75);
    expect(displayProgress('unknown-stage', 33)).toBe(33);
    expect(displayProgress(undefined, 250)).toBe(100);
  });
  it('is full once the preview is ready', () => {
    expect(displayProgress('finalizing', 95, 'preview_ready')).toBe(100);
  });
});

describe('stageStates', () => {
  it('marks done, active and pending', () => {
    const s = stageStates('smpl-mesh-complete', 'processing');
    expect(s.slice(0, 3)).toEqual(['done', 'done', 'done']);
    expect(s[3]).toBe('active');
    expect(s.slice(4).every((x) => x === 'pending')).toBe(true);
  });
  it('completes everything at preview_ready', () => {
    expect(stageStates('finalizing', 'preview_ready').every((x) => x === 'done')).toBe(true);
  });
  it('marks the failing stage', () => {
    expect(stageStates('ai-processing', 'failed')[6]).toBe('failed');
  });
  it('starts at queued for an unknown stage', () => {
    expect(stageStates(undefined, 'queued')[0]).toBe('active');
  });
});

describe('formatEta / isTerminal', () => {
  it('formats seconds', () => {
    expect(formatEta(12.4)).toBe('12 s');
    expect(formatEta(65)).toBe('1 min 5 s');
    expect(formatEta(120)).toBe('2 min');
    expect(formatEta(null)).toBeNull();
    expect(formatEta(-1)).toBeNull();
  });
  it('knows final states', () => {
    expect(isTerminal('confirmed')).toBe(true);
    expect(isTerminal('preview_ready')).toBe(false);
  });
});

describe('appendStage', () => {
  it('records each new stage once, in order, with its time', () => {
    let t = appendStage([], { stage: 'ai-queued', progress: 60 }, 0);
    t = appendStage(t, { stage: 'ai-queued', progress: 60 }, 5);
    t = appendStage(t, { stage: 'ai-processing', progress: 75, attempts: 1 }, 40);
    t = appendStage(t, { stage: 'ai-complete', progress: 90, attempts: 1 }, 900);
    expect(t.map((e) => e.stage)).toEqual(['ai-queued', 'ai-processing', 'ai-complete']);
    expect(t.map((e) => e.atMs)).toEqual([0, 40, 900]);
  });

  it('ignores replayed history behind the last entry, keeps a retry', () => {
    let t = appendStage([], { stage: 'ai-complete', progress: 90, attempts: 1 }, 0);
    t = appendStage(t, { stage: 'smpl-start', progress: 10 }, 1);
    expect(t).toHaveLength(1);
    t = appendStage(t, { stage: 'ai-processing', progress: 90, attempts: 2 }, 2);
    expect(t.map((e) => [e.stage, e.attempt])).toEqual([
      ['ai-complete', 1],
      ['ai-processing', 2],
    ]);
    t = appendStage(t, { stage: 'ai-complete', progress: 90, attempts: 1 }, 3);
    expect(t).toHaveLength(2);
  });

  it('skips updates without a stage; labels unknown stages by id', () => {
    expect(appendStage([], { progress: 50 }, 0)).toEqual([]);
    expect(stageLabel('ai-processing')).toBe('Rendering');
    expect(stageLabel('stage-2-product')).toBe('stage-2-product');
  });
});
