// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { ApiClient } from '../api/client';
import { ApiContext } from '../hooks/useApi';
import type { StatusUpdate } from '../api/types';
import type { Transport, TransportHandlers } from '../lib/live';
import { EnhancedModal } from './EnhancedModal';

afterEach(cleanup);

const RET_003 = {
  success: false,
  error: { code: 'RET_003', message: 'quality thresholds not met after 3 attempt(s)' },
  imageUrl: '/api/tryon/sessions/j1/result',
  attempts: 3,
  processingTime: 1300,
  retryHistory: [{ attempt: 1, overall: 0.83, failed: ['pose'] }, { attempt: 2, overall: 0.84, failed: ['pose'] }],
  validation: { passes: false, overallQuality: 0.84, consistency: { face: 0.99, pose: 0.23 }, accuracy: { color: 0.99, style: 0.94, branding: 0.72 }, feedback: ['Pose accuracy: 23% (below 55%)'] },
};

/** A transport the test drives by hand. */
function manualTransport() {
  let h: TransportHandlers | null = null;
  const t: Transport = {
    name: 'socket',
    start(_id, _token, handlers) {
      h = handlers;
      handlers.open();
      return () => {};
    },
  };
  return { t, send: (u: StatusUpdate) => h?.update(u) };
}

describe('EnhancedModal', () => {
  it('follows the live stages, then shows the answer (RET_003 with the best attempt) and its meters', async () => {
    let done = false;
    const fetchImpl = async (input: string) => {
      if (input.startsWith('/api/enhanced-tryon/jobs/j1')) {
        return done
          ? new Response(JSON.stringify(RET_003), { status: 422, headers: { 'Content-Type': 'application/json' } })
          : new Response(JSON.stringify({ success: true, jobId: 'j1', status: 'processing', stage: 'queued', progress: 0 }), { status: 202 });
      }
      if (input === '/api/tryon/sessions/j1/result') return new Response(new Blob(['png']), { status: 200 });
      return new Response('{}', { status: 404 });
    };
    const live = manualTransport();
    render(
      <ApiContext.Provider value={new ApiClient('key', fetchImpl)}>
        <EnhancedModal jobId="j1" tier="standard" onClose={() => {}} transports={[live.t]} />
      </ApiContext.Provider>,
    );
    const modal = screen.getByTestId('enhanced-modal');
    act(() => live.send({ sessionId: 'j1', status: 'processing', stage: 'adaptive-retry', progress: 76, seq: 9, attempts: 3 }));
    expect(modal.dataset.status).toBe('processing');
    expect(screen.getByTestId('enhanced-progress').querySelector('[data-stage="quality-validation"]')?.getAttribute('data-state')).toBe('active');
    done = true;
    act(() => live.send({ sessionId: 'j1', status: 'confirmed', stage: 'complete', progress: 100, seq: 13 }));
    await waitFor(() => expect(modal.dataset.status).toBe('done'));
    const result = screen.getByTestId('enhanced-result');
    expect(result.dataset.success).toBe('false');
    expect(result.textContent).toContain('RET_003');
    expect(screen.getByTestId('meter-pose').dataset.colour).toBe('red');
    expect(screen.getByTestId('meter-branding').dataset.colour).toBe('yellow');
    expect(screen.getByTestId('meter-overall').dataset.colour).toBe('green');
    expect(result.textContent).toContain('Earlier attempts (2)');
  });
});
