// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { ScoreMeter } from './ScoreMeter';
import { QualityControls } from './QualityControls';
import { ErrorNote } from './ErrorNote';
import { mergeUpdate } from './ProcessingModal';

afterEach(cleanup);

describe('ScoreMeter', () => {
  it('shows colour, value and pass/fail', async () => {
    vi.useFakeTimers();
    render(<ScoreMeter label="Face consistency" score={0.72} threshold={0.65} testId="meter-face" />);
    const meter = screen.getByTestId('meter-face');
    expect(meter.dataset.colour).toBe('yellow');
    expect(meter.dataset.value).toBe('72');
    expect(screen.getByRole('meter').getAttribute('aria-valuenow')).toBe('72');
    expect(screen.getByLabelText('passes')).toBeTruthy();
    await act(async () => {
      vi.advanceTimersByTime(1500);
    });
    expect(meter.textContent).toContain('72 %');
    vi.useRealTimers();
  });
  it('fails below the pass mark and is red under 60 %', () => {
    render(<ScoreMeter label="Branding" score={0.5} threshold={0.75} testId="m" />);
    expect(screen.getByTestId('m').dataset.colour).toBe('red');
    expect(screen.getByLabelText('fails')).toBeTruthy();
  });
  it('says when a metric was not measured', () => {
    render(<ScoreMeter label="Pose" score={null} testId="m" />);
    expect(screen.getByTestId('m').textContent).toContain('not measured');
  });
});

describe('QualityControls', () => {
  it('shows the cost of the chosen quality and changes it by keyboard/radio', () => {
    const onQuality = vi.fn();
    const { rerender } = render(<QualityControls quality="hd" tier="standard" credits={100} onQuality={onQuality} onTier={() => {}} />);
    expect(screen.getByTestId('cost-summary').textContent).toContain('15 credits');
    fireEvent.click(screen.getByLabelText(/4K/));
    expect(onQuality).toHaveBeenCalledWith('4k');
    rerender(<QualityControls quality="4k" tier="ultra" credits={20} onQuality={onQuality} onTier={() => {}} />);
    expect(screen.getByTestId('cost-summary').textContent).toContain('25 credits');
    expect(screen.getByTestId('cost-summary').textContent).toContain('not enough');
    expect(screen.getByTestId('cost-summary').textContent).toContain('120–300 s');
  });
});

describe('ErrorNote', () => {
  it('shows code, message and what to do', () => {
    render(<ErrorNote error={{ code: 'GAR_008', message: 'nothing stands out' }} />);
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('GAR_008');
    expect(alert.textContent).toContain('nothing stands out');
    expect(alert.textContent).toContain('plain background');
  });
});

describe('mergeUpdate', () => {
  it('keeps what the update does not carry', () => {
    const s = mergeUpdate(
      { sessionId: 's', status: 'processing', stage: 'ai-queued', attempts: 2, tier: 'premium', estimatedTime: 30 },
      { sessionId: 's', status: 'processing', stage: 'ai-processing', progress: 77 },
    );
    expect(s).toMatchObject({ stage: 'ai-processing', progress: 77, attempts: 2, tier: 'premium', estimatedTime: 30 });
    expect(mergeUpdate(s, { sessionId: 's', status: 'processing', estimatedTime: null }).estimatedTime).toBeNull();
  });
  it('ignores a replayed update older than the state shown', () => {
    const shown = { sessionId: 's', status: 'processing', stage: 'ai-queued', progress: 60 } as const;
    expect(mergeUpdate(shown, { sessionId: 's', status: 'queued', stage: 'queued', progress: 0 })).toBe(shown);
    expect(mergeUpdate(shown, { sessionId: 's', status: 'processing', stage: 'smpl-start', progress: 10 })).toBe(shown);
    expect(mergeUpdate(shown, { sessionId: 's', status: 'processing', stage: 'ai-processing', progress: 75 }).stage).toBe('ai-processing');
  });
  it('shows a retry: same progress, a later attempt', () => {
    const validated = { sessionId: 's', status: 'processing', stage: 'ai-complete', progress: 90, attempts: 1 } as const;
    const retry = mergeUpdate(validated, { sessionId: 's', status: 'processing', stage: 'ai-processing', progress: 90, attempts: 2 });
    expect(retry).toMatchObject({ stage: 'ai-processing', attempts: 2 });
    // The first attempt's validation, replayed late, does not undo it.
    expect(mergeUpdate(retry, { sessionId: 's', status: 'processing', stage: 'ai-complete', progress: 90, attempts: 1 })).toBe(retry);
  });
});
