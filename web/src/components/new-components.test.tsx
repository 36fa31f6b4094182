// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import type { ReactNode } from 'react';
import { ApiClient } from '../api/client';
import { ApiContext } from '../hooks/useApi';
import { RatingStars, SessionRating } from './RatingStars';
import { BillingPage } from './BillingPage';
import { AdminDashboard } from './admin/AdminDashboard';
import { SystemStatsPanel } from './admin/OptionalPanels';
import { AlertsPanel } from './admin/AlertsPanel';
import alertsFixture from '../lib/fixtures/admin-alerts.json';
import { PERSONA_ID_PATTERN, parsePoses } from './admin/PersonasPanel';
import { BarChart, LineChart } from './charts/Charts';
import { CataloguePage } from './CataloguePage';
import { AnalyticsPanel } from './admin/AnalyticsPanel';

afterEach(cleanup);

type Handler = (url: URL, init: RequestInit) => { status: number; body?: unknown } | undefined;

/** A real ApiClient over a fake fetch: routes answer JSON; unknown ones 404. */
function fakeApi(handler: Handler) {
  const calls: { method: string; url: string; body?: string }[] = [];
  const fetchImpl = async (input: string, init: RequestInit = {}) => {
    const url = new URL(input, 'http://studio.test');
    calls.push({ method: init.method ?? 'GET', url: url.pathname + url.search, body: typeof init.body === 'string' ? init.body : undefined });
    const a = handler(url, init) ?? { status: 404, body: { error: { code: 'NOT_022', message: 'not found' } } };
    return new Response(a.body === undefined ? null : JSON.stringify(a.body), { status: a.status, headers: { 'Content-Type': 'application/json' } });
  };
  return { api: new ApiClient('key', fetchImpl), calls };
}

function withApi(api: ApiClient, ui: ReactNode) {
  return render(<ApiContext.Provider value={api}>{ui}</ApiContext.Provider>);
}

describe('RatingStars', () => {
  it('is a radio group of five; choosing one reports it', () => {
    const onChange = vi.fn();
    render(<RatingStars value={null} onChange={onChange} />);
    const radios = screen.getAllByRole('radio');
    expect(radios).toHaveLength(5);
    fireEvent.click(screen.getByLabelText(/4 stars/));
    expect(onChange).toHaveBeenCalledWith(4);
  });
  it('lights the stars up to the value and checks its radio', () => {
    const { container } = render(<RatingStars value={3} onChange={() => {}} />);
    expect(container.querySelectorAll('.star.lit')).toHaveLength(3);
    expect((screen.getByLabelText(/3 stars/) as HTMLInputElement).checked).toBe(true);
  });
});

describe('SessionRating', () => {
  it('posts {rating} and shows what the server saved', async () => {
    const { api, calls } = fakeApi((url, init) =>
      url.pathname === '/api/tryon/sessions/s1/rating' && init.method === 'POST'
        ? { status: 200, body: { success: true, sessionId: 's1', rating: JSON.parse(String(init.body)).rating } }
        : undefined,
    );
    withApi(api, <SessionRating sessionId="s1" />);
    expect(screen.getByTestId('rating-saved').textContent).toContain('Not rated');
    fireEvent.click(screen.getByLabelText(/5 stars/));
    await waitFor(() => expect(screen.getByTestId('rating-saved').dataset.rating).toBe('5'));
    expect(calls.at(-1)).toMatchObject({ method: 'POST', body: '{"rating":5}' });
  });
  it('shows the newest choice when answers arrive out of order', async () => {
    const pending: ((r: Response) => void)[] = [];
    const fetchImpl = (_: string, init?: RequestInit) =>
      new Promise<Response>((resolve) => {
        const rating = JSON.parse(String(init?.body)).rating;
        pending.push(() => resolve(new Response(JSON.stringify({ success: true, sessionId: 's', rating }), { status: 200 })));
      });
    withApi(new ApiClient('key', fetchImpl), <SessionRating sessionId="s" />);
    fireEvent.click(screen.getByLabelText(/2 stars/));
    fireEvent.click(screen.getByLabelText(/4 stars/));
    await waitFor(() => expect(pending).toHaveLength(2));
    pending[1](new Response());
    await waitFor(() => expect(screen.getByTestId('rating-saved').dataset.rating).toBe('4'));
    pending[0](new Response());
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.getByTestId('rating-saved').dataset.rating).toBe('4');
  });
  it('shows the error code when the server refuses', async () => {
    const { api } = fakeApi(() => ({ status: 404, body: { error: { code: 'NOT_022', message: 'no such session' } } }));
    withApi(api, <SessionRating sessionId="gone" />);
    fireEvent.click(screen.getByLabelText(/2 stars/));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('NOT_022'));
    expect(screen.getByTestId('rating-saved').dataset.rating).toBe('');
  });
});

const PLAN = {
  plan: 'free',
  planEndsAt: null,
  periodStart: '2026-12-01T00:00:00Z',
  periodEnd: '2027-01-01T00:00:00Z',
  limits: { avatarsPerMonth: 1, tryonsPerMonth: 0, monthlyCredits: 0 },
  usage: { avatars: 1, tryons: 0 },
  balance: 85,
};
const entry = (id: string, at: string, kind: string, amount: number, subject: string | null = null) => ({ id, kind, amount, createdAt: at, subject, actor: 'system', reason: kind });

describe('BillingPage', () => {
  function billingApi(checkout: { status: number; body: unknown }) {
    return fakeApi((url, init) => {
      if (url.pathname === '/api/billing/plan') return { status: 200, body: PLAN };
      if (url.pathname === '/api/billing/balance') return { status: 200, body: { balance: 85, currency: 'credits' } };
      if (url.pathname === '/api/billing/ledger') {
        return url.searchParams.get('cursor') === 'c2'
          ? { status: 200, body: { items: [entry('a', '2026-12-01T00:00:00Z', 'grant', 100)], nextCursor: null } }
          : { status: 200, body: { items: [entry('c', '2026-12-02T00:00:02Z', 'capture', 0, 'sess-1'), entry('b', '2026-12-02T00:00:01Z', 'hold', -15, 'sess-1')], nextCursor: 'c2' } };
      }
      if (url.pathname === '/api/billing/checkout' && init.method === 'POST') return checkout;
      return undefined;
    });
  }

  it('shows balance, usage and the ledger, loading older pages by cursor', async () => {
    const { api } = billingApi({ status: 201, body: { id: 'cs_1', url: 'https://checkout.stripe.test/cs_1' } });
    withApi(api, <BillingPage redirect={() => {}} />);
    await waitFor(() => expect(screen.getByTestId('billing-balance').dataset.balance).toBe('85'));
    expect(screen.getByTestId('billing-plan').textContent).toContain('1 of 1');
    await waitFor(() => expect(screen.getAllByTestId('ledger-entry')).toHaveLength(2));
    fireEvent.click(screen.getByTestId('ledger-more'));
    await waitFor(() => expect(screen.getAllByTestId('ledger-entry')).toHaveLength(3));
    expect(screen.getAllByTestId('ledger-entry').map((r) => r.dataset.kind)).toEqual(['capture', 'hold', 'grant']);
    expect(screen.queryByTestId('ledger-more')).toBeNull();
    expect(screen.getAllByTestId('ledger-entry')[1].textContent).toContain('\u221215');
  });

  it('posts {plan} and redirects to the checkout URL', async () => {
    const redirect = vi.fn();
    const { api, calls } = billingApi({ status: 201, body: { id: 'cs_1', url: 'https://checkout.stripe.test/cs_1' } });
    withApi(api, <BillingPage redirect={redirect} />);
    fireEvent.click(await screen.findByTestId('upgrade-pro'));
    await waitFor(() => expect(redirect).toHaveBeenCalledWith('https://checkout.stripe.test/cs_1'));
    expect(calls.find((c) => c.url === '/api/billing/checkout')?.body).toBe('{"plan":"pro"}');
  });

  it("shows the server's coded error when checkout is refused", async () => {
    const redirect = vi.fn();
    const { api } = billingApi({ status: 400, body: { error: { code: 'REQ_019', message: "plan 'studio' cannot be bought (no Stripe price)" } } });
    withApi(api, <BillingPage redirect={redirect} />);
    fireEvent.click(await screen.findByTestId('upgrade-studio'));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('REQ_019');
    expect(alert.textContent).toContain('no Stripe price');
    expect(redirect).not.toHaveBeenCalled();
  });
});

describe('admin gate', () => {
  it('tells a non-admin the dashboard is for admins and asks nothing of the server', () => {
    const { api, calls } = fakeApi(() => undefined);
    withApi(api, <AdminDashboard me={{ id: 'u', name: 'u', role: 'user', plan: 'free', credits: 0 }} />);
    expect(screen.getByTestId('admins-only').textContent).toContain('Admins only');
    expect(calls).toHaveLength(0);
  });
  it('shows "admins only" when the server answers 403 to an admin role', async () => {
    const { api } = fakeApi((url) => (url.pathname.startsWith('/api/admin/') ? { status: 403, body: { error: { code: 'AUTH_021', message: 'no' } } } : undefined));
    withApi(api, <AdminDashboard me={{ id: 'u', name: 'u', role: 'admin', plan: 'pro', credits: 0 }} />);
    expect(screen.getByTestId('admin-dashboard')).toBeTruthy();
    await screen.findByTestId('admins-only');
  });
});

describe('optional panels', () => {
  it('say "not available on this server" on 404', async () => {
    const { api } = fakeApi(() => undefined);
    withApi(api, <><SystemStatsPanel /><AlertsPanel /></>);
    await waitFor(() => expect(screen.getAllByTestId('not-available')).toHaveLength(2));
  });
  it('say so too when the server answers its index.html instead (SPA fallback)', async () => {
    const fetchImpl = async () => new Response('<!doctype html><html></html>', { status: 200, headers: { 'Content-Type': 'text/html' } });
    withApi(new ApiClient('key', fetchImpl), <SystemStatsPanel />);
    await waitFor(() => expect(screen.getByTestId('system-stats-panel').dataset.available).toBe('false'));
  });
  it('render what the server answers', async () => {
    const { api } = fakeApi((url) =>
      url.pathname === '/api/admin/system-stats'
        ? { status: 200, body: { queue: { depth: 4 } } }
        : url.pathname === '/api/admin/alerts'
          ? { status: 200, body: alertsFixture }
          : undefined,
    );
    withApi(api, <><SystemStatsPanel /><AlertsPanel /></>);
    await waitFor(() => expect(screen.getByTestId('system-stats-panel').dataset.available).toBe('true'));
    expect(screen.getByTestId('system-stats-panel').textContent).toContain('queue.depth');
    await waitFor(() => expect(screen.getByTestId('alerts-panel').dataset.available).toBe('true'));
    expect(screen.queryByTestId('not-available')).toBeNull();
  });
});

describe('AlertsPanel', () => {
  function alertsApi(body: unknown) {
    return fakeApi((url) => (url.pathname === '/api/admin/alerts' ? { status: 200, body } : undefined));
  }

  it('asks for firing and resolved alerts', async () => {
    const { api, calls } = alertsApi(alertsFixture);
    withApi(api, <AlertsPanel />);
    await screen.findByTestId('firing-alerts');
    const asked = new URL(calls[0].url, 'http://x');
    expect(asked.pathname).toBe('/api/admin/alerts');
    expect(asked.searchParams.get('state')).toBe('all');
    expect(Number(asked.searchParams.get('limit'))).toBeGreaterThan(0);
  });

  it('shows firing alerts first (critical on top) with their deliveries; resolved ones folded', async () => {
    const { api } = alertsApi(alertsFixture);
    withApi(api, <AlertsPanel />);
    const firing = await screen.findByTestId('firing-alerts');
    const items = within(firing).getAllByTestId('alert');
    expect(items.map((i) => i.dataset.severity)).toEqual(['critical', 'warning']);
    expect(items[0].textContent).toContain('Average quality 52% over the last 60 min is below 60%');
    expect(within(items[0]).getByTestId('alert-time').textContent).toMatch(/^firing for .+, since /);
    expect(items[1].textContent).toContain('on render-1');
    const deliveries = within(items[0]).getAllByTestId('alert-delivery');
    expect(deliveries.map((d) => d.dataset.state)).toEqual(['delivered', 'failed']);
    expect(deliveries[1].textContent).toContain('failed after 3 attempts: SMTP 550 mailbox unavailable');
    expect(within(items[1]).getByTestId('alert-delivery').textContent).toContain('pending (2 attempts)');
    const resolved = screen.getByTestId('resolved-alerts') as HTMLDetailsElement;
    expect(resolved.open).toBe(false);
    expect(resolved.querySelector('summary')?.textContent).toBe('Recently resolved (1)');
    expect(within(resolved).getByTestId('alert').dataset.state).toBe('resolved');
    expect(screen.queryByTestId('no-alerts')).toBeNull();
    expect(screen.getByTestId('alert-config').textContent).toContain('CPU ≥ 90 % or memory ≥ 85 %');
  });

  it('says "No alerts firing." when only resolved ones are there', async () => {
    const { api } = alertsApi({ ...alertsFixture, alerts: alertsFixture.alerts.filter((a) => a.state === 'resolved') });
    withApi(api, <AlertsPanel />);
    expect((await screen.findByTestId('no-alerts')).textContent).toBe('No alerts firing.');
    expect(screen.queryByTestId('firing-alerts')).toBeNull();
    expect(screen.getByTestId('resolved-alerts')).toBeTruthy();
  });

  it('still shows an older, partial shape', async () => {
    const { api } = alertsApi({ alerts: [{ id: 'a', type: 'highCost', severity: 'critical', message: '$120 today' }] });
    withApi(api, <AlertsPanel />);
    const firing = await screen.findByTestId('firing-alerts');
    expect(within(firing).getByTestId('alert').textContent).toContain('$120 today');
    expect(screen.queryByTestId('alert-config')).toBeNull();
  });

  it('says "not available" on 404', async () => {
    const { api } = fakeApi(() => undefined);
    withApi(api, <AlertsPanel />);
    await waitFor(() => expect(screen.getByTestId('alerts-panel').dataset.available).toBe('false'));
    expect(screen.getByTestId('not-available').textContent).toContain('/api/admin/alerts');
    expect(screen.queryByTestId('no-alerts')).toBeNull();
  });
});

describe('charts', () => {
  it('draws one bar per value with the value in its title', () => {
    const { container } = render(<BarChart title="Cost" labels={['a', 'b', 'c']} values={[1, 2, 4]} format={(v) => `$${v}`} testId="c" />);
    const bars = container.querySelectorAll('rect.bar');
    expect(bars).toHaveLength(3);
    expect(Number(bars[2].getAttribute('height'))).toBeGreaterThan(Number(bars[0].getAttribute('height')));
    expect(bars[1].textContent).toBe('b: $2');
  });
  it('says so when there is no data, and skips null points', () => {
    render(<LineChart title="Empty" labels={[]} values={[]} format={String} testId="e" />);
    expect(screen.getByTestId('e').textContent).toContain('No data');
    const { container } = render(<LineChart title="Gappy" labels={['a', 'b', 'c']} values={[0.5, null, 0.7]} max={1} format={String} />);
    expect(container.querySelectorAll('circle.point')).toHaveLength(2);
  });
});

describe('persona management', () => {
  it('parses a pose list', () => {
    expect(parsePoses(' Front, Side ,, Front ')).toEqual(['Front', 'Side']);
  });
  it("has an id pattern that browsers can compile (they use the 'v' flag, as here)", () => {
    const re = new RegExp(`^(?:${PERSONA_ID_PATTERN})$`, 'v');
    expect(re.test('e2e-persona_2')).toBe(true);
    expect(re.test('Eileen')).toBe(false);
    expect(re.test('a b')).toBe(false);
  });
});

describe('CataloguePage', () => {
  it('preselects the first renderable pose and disables poses without a reference', async () => {
    const { api } = fakeApi((url) =>
      url.pathname === '/api/models'
        ? {
            status: 200,
            body: {
              success: true,
              models: [
                { id: 'johny', name: 'Johny', poses: ['Arms Crossed'], consistencyThreshold: 0.75, poseReferences: [{ pose: 'Arms Crossed', status: null, imageUrl: null }] },
                { id: 'maya', name: 'Maya', poses: ['Standing', 'Contrapposto'], consistencyThreshold: 0.75, poseReferences: [{ pose: 'Standing', status: 'ready', imageUrl: '/r' }, { pose: 'Contrapposto', status: null, imageUrl: null }] },
              ],
            },
          }
        : undefined,
    );
    withApi(api, <CataloguePage onChanged={() => {}} />);
    const standing = (await screen.findByLabelText(/Standing/)) as HTMLInputElement;
    expect(standing.checked).toBe(true);
    expect((screen.getByLabelText(/Contrapposto/) as HTMLInputElement).disabled).toBe(true);
    expect((screen.getByRole('radio', { name: /Johny/ }) as HTMLInputElement).disabled).toBe(true);
    // No product photo yet: nothing can be generated.
    expect((screen.getByTestId('generate') as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('AnalyticsPanel', () => {
  const group = { key: 'all', generations: 3, passed: 2, successRate: 2 / 3, meanOverallQuality: 0.7 };
  const base = {
    success: true,
    summary: group,
    successRates: { byModel: [], byPose: [], byTier: [{ ...group, key: 'standard' }] },
    processingTime: { p50Ms: 1000, p95Ms: 2000, meanStageMs: {} },
    costs: { total: 0.09, perGeneration: 0.03 },
    quality: { mean: {}, overallDistribution: [] },
    retries: { retried: 1, attemptsDistribution: [{ attempts: 1, count: 2 }, { attempts: 2, count: 1 }], mostCommonFailingMetric: null, failingMetrics: [] },
    errors: [],
    ratings: { count: 0, mean: null, distribution: [0, 0, 0, 0, 0] },
  };
  const detailAt = (timestamp: string, passes: boolean) => ({
    sessionId: timestamp, modelId: null, pose: null, qualityTier: 'standard', provider: null, attempts: 1, passes,
    scores: { overall: 0.7 }, failingMetric: null, processingTimeMs: 1000, cost: 0.03, errorCode: null, timestamp,
  });

  it("draws the per-day charts from the server's daily series, without asking for details", async () => {
    const daily = [
      { date: '2026-12-01', generations: 2, passed: 1, successRate: 0.5, meanOverallQuality: 0.6, meanAttempts: 1.5, totalCost: 0.06 },
      { date: '2026-12-03', generations: 1, passed: 1, successRate: 1, meanOverallQuality: null, meanAttempts: 1, totalCost: 0.03 },
    ];
    const { api, calls } = fakeApi((url) => (url.pathname === '/api/admin/analytics' ? { status: 200, body: { ...base, daily } } : undefined));
    withApi(api, <AnalyticsPanel onDenied={() => {}} />);
    await waitFor(() => expect(screen.getByTestId('analytics-panel').dataset.daysFrom).toBe('daily'));
    const asked = calls.filter((c) => c.url.startsWith('/api/admin/analytics'));
    expect(asked).toHaveLength(1);
    expect(asked[0].url).not.toContain('includeDetails');
    // Three days (the 2nd filled in as a gap): success on two of them, quality on one.
    expect([...screen.getByTestId('chart-success').querySelectorAll('circle.point')].map((c) => Number(c.getAttribute('data-value')))).toEqual([0.5, 1]);
    expect(screen.getByTestId('chart-quality').querySelectorAll('circle.point')).toHaveLength(1);
    expect([...screen.getByTestId('chart-cost').querySelectorAll('rect.bar')].map((b) => Number(b.getAttribute('data-value')))).toEqual([0.06, 0, 0.03]);
  });

  it('asks again with includeDetails when the server has no daily series, and derives the charts from details', async () => {
    const { api, calls } = fakeApi((url) =>
      url.pathname === '/api/admin/analytics'
        ? {
            status: 200,
            body: url.searchParams.get('includeDetails') === 'true'
              ? { ...base, details: [detailAt('2026-12-02T10:00:00Z', true), detailAt('2026-12-02T11:00:00Z', false)] }
              : base,
          }
        : undefined,
    );
    withApi(api, <AnalyticsPanel onDenied={() => {}} />);
    await waitFor(() => expect(screen.getByTestId('analytics-panel').dataset.daysFrom).toBe('details'));
    expect(calls.filter((c) => c.url.startsWith('/api/admin/analytics')).map((c) => c.url.includes('includeDetails=true'))).toEqual([false, true]);
    expect([...screen.getByTestId('chart-success').querySelectorAll('circle.point')].map((c) => Number(c.getAttribute('data-value')))).toEqual([0.5]);
  });
});
