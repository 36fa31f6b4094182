import { useState } from 'react';
import type { Analytics } from '../../api/admin-types';
import type { ApiClient } from '../../api/client';
import { useApi } from '../../hooks/useApi';
import { analyticsDays } from '../../lib/charts';
import { pct } from '../../lib/format';
import { BarChart, LineChart } from '../charts/Charts';
import { ErrorNote } from '../ErrorNote';
import { useLoad } from './useLoad';

const DAY_MS = 86_400_000;
const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);
const pctFmt = (v: number) => `${Math.round(v * 100)}%`;
const usd = (v: number) => `$${v < 1 && v > 0 ? v.toFixed(3) : v.toFixed(2)}`;
const count = (v: number) => String(Math.round(v));
/** "2026-01-05" → "01-05": the year is in the range picker. */
const shortDay = (d: string) => d.slice(5);

/**
 * The range's analytics. A server with the per-day `daily` series needs no
 * generation details for the charts; an older one is asked again with
 * `includeDetails` (up to 1000 rows) to derive them.
 */
async function loadAnalytics(api: ApiClient, startDate: string, endDate: string): Promise<Analytics> {
  const a = await api.analytics({ startDate, endDate });
  if (Array.isArray(a.daily)) return a;
  return api.analytics({ startDate, endDate, includeDetails: true });
}

export function AnalyticsPanel({ onDenied }: { onDenied(e: unknown): void }) {
  const api = useApi();
  const [start, setStart] = useState(() => isoDay(Date.now() - 29 * DAY_MS));
  const [end, setEnd] = useState(() => isoDay(Date.now()));
  const a = useLoad(
    () =>
      loadAnalytics(api, start, end).catch((e) => {
        onDenied(e);
        throw e;
      }),
    [api, start, end],
  );
  const data = a.data;
  const { days, source } = data ? analyticsDays(data) : { days: [], source: 'daily' as const };
  const dayLabels = days.map((d) => shortDay(d.day));

  return (
    <section className="card panel admin-wide" aria-labelledby="analytics-title" data-testid="analytics-panel" data-days-from={data ? source : ''}>
      <h2 id="analytics-title">Analytics</h2>
      <div className="date-range">
        <label>
          From <input type="date" value={start} max={end} onChange={(e) => e.target.value && setStart(e.target.value)} />
        </label>
        <label>
          To <input type="date" value={end} min={start} onChange={(e) => e.target.value && setEnd(e.target.value)} />
        </label>
        <button type="button" onClick={a.reload} disabled={a.loading}>
          {a.loading ? 'Loading…' : 'Refresh'}
        </button>
      </div>
      <ErrorNote error={a.error} />
      {data && (
        <>
          <dl className="facts kpis" data-testid="analytics-summary" data-generations={data.summary.generations}>
            <dt>Generations</dt>
            <dd>{data.summary.generations}</dd>
            <dt>Success rate</dt>
            <dd>{data.summary.generations ? pct(data.summary.successRate) : '—'}</dd>
            <dt>Mean quality</dt>
            <dd>{pct(data.summary.meanOverallQuality)}</dd>
            <dt>Total cost</dt>
            <dd>{usd(data.costs.total)}</dd>
            <dt>Time p50 / p95</dt>
            <dd>
              {(data.processingTime.p50Ms / 1000).toFixed(1)} s / {(data.processingTime.p95Ms / 1000).toFixed(1)} s
            </dd>
            <dt>Ratings</dt>
            <dd>{data.ratings.count ? `${data.ratings.mean?.toFixed(2)} ★ (${data.ratings.count})` : 'none yet'}</dd>
          </dl>
          {source === 'details' && data.details && data.details.length >= 1000 && (
            <p className="muted small">Daily charts use the newest 1000 generations of the range.</p>
          )}
          <div className="chart-grid">
            <LineChart title="Success rate per day" labels={dayLabels} values={days.map((d) => d.successRate)} max={1} format={pctFmt} testId="chart-success" />
            <LineChart title="Quality trend (mean overall score per day)" labels={dayLabels} values={days.map((d) => d.meanOverall)} max={1} format={pctFmt} testId="chart-quality" />
            <BarChart title="Cost per day (USD)" labels={dayLabels} values={days.map((d) => d.cost)} format={usd} testId="chart-cost" />
            <BarChart
              title="Retry patterns: attempts per generation"
              labels={data.retries.attemptsDistribution.map((r) => `${r.attempts}×`)}
              values={data.retries.attemptsDistribution.map((r) => r.count)}
              format={count}
              counts
              testId="chart-retries"
            />
            <BarChart
              title="Failing metric behind retries"
              labels={data.retries.failingMetrics.map((m) => m.metric)}
              values={data.retries.failingMetrics.map((m) => m.count)}
              format={count}
              counts
              testId="chart-failing"
            />
            <BarChart
              title="Success rate by tier"
              labels={data.successRates.byTier.map((g) => g.key)}
              values={data.successRates.byTier.map((g) => g.successRate)}
              max={1}
              format={pctFmt}
              testId="chart-tier"
            />
            <BarChart
              title="Overall score distribution"
              labels={data.quality.overallDistribution.map((b) => `${Math.round(b.from * 100)}`)}
              values={data.quality.overallDistribution.map((b) => b.count)}
              format={count}
              counts
              testId="chart-distribution"
            />
          </div>
          {data.errors.length > 0 && (
            <p className="small">
              Errors: {data.errors.map((e) => `${e.code} × ${e.count}`).join(', ')}
            </p>
          )}
        </>
      )}
    </section>
  );
}
