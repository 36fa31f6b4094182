import { useState, type FormEvent } from 'react';
import type { AbTest } from '../../api/admin-types';
import { ApiError } from '../../api/errors';
import type { Tier } from '../../api/types';
import { useApi } from '../../hooks/useApi';
import { pct, when } from '../../lib/format';
import { TIERS } from '../../lib/quality';
import { ErrorNote } from '../ErrorNote';
import { useLoad } from './useLoad';
import { TableScroll } from '../TableScroll';

const interval = (ci: [number, number] | null, f: (v: number) => string) => (ci ? ` (${f(ci[0])}–${f(ci[1])})` : '');

function TestResults({ t }: { t: AbTest }) {
  const r = t.results;
  return (
    <article className="ab-test" data-testid="ab-test" data-status={t.status}>
      <h3>
        {t.name} <span className={`badge ${t.status === 'running' ? 'processing' : ''}`}>{t.status}</span>
      </h3>
      <p className="muted small">
        {when(t.startsAt)} – {when(t.endsAt)} · judged by {t.successMetrics.primaryMetric.replace('_', ' ')} (threshold {t.successMetrics.threshold})
      </p>
      <TableScroll label={`Results of ${t.name}`}>
        <table className="data-table">
          <caption className="sr-only">Results of {t.name}</caption>
          <thead>
            <tr>
              <th scope="col">Variant</th>
              <th scope="col" className="num">Generations</th>
              <th scope="col" className="num">Pass rate (95% CI)</th>
              <th scope="col" className="num">Mean rating (95% CI)</th>
            </tr>
          </thead>
          <tbody>
            {r.variants.map((v) => (
              <tr key={v.name} className={r.winner === v.name ? 'winner' : ''}>
                <td>
                  {v.name}
                  {r.winner === v.name ? ' 🏆' : ''}
                  {v.unappliedParameters.length > 0 && <span className="muted small"> (not applied: {v.unappliedParameters.join(', ')})</span>}
                </td>
                <td className="num">{v.generations}</td>
                <td className="num">{v.passRate == null ? '—' : pct(v.passRate) + interval(v.passRateCi95, (x) => pct(x))}</td>
                <td className="num">
                  {v.meanRating == null ? '—' : `${v.meanRating.toFixed(2)} (${v.ratings})${interval(v.meanRatingCi95, (x) => x.toFixed(2))}`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
      <p className="small">
        {r.pValue == null
          ? `Not enough data yet for ${r.test} (needs ${r.minSamplesPerVariant} per variant).`
          : `p = ${r.pValue.toFixed(3)} (${r.test}): ${r.significant ? 'significant' : 'not significant'}${r.winner ? `, winner ${r.winner}` : ''}.`}
      </p>
    </article>
  );
}

function NewTestForm({ onCreated }: { onCreated(): void }) {
  const api = useApi();
  const [name, setName] = useState('');
  const [a, setA] = useState<Tier>('standard');
  const [b, setB] = useState<Tier>('premium');
  const [days, setDays] = useState(7);
  const [metric, setMetric] = useState<'user_rating' | 'pass_rate'>('user_rating');
  const [threshold, setThreshold] = useState(4);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.createAbTest({
        name: name.trim(),
        variants: [
          { name: 'Control', parameters: { qualityTier: a } },
          { name: 'Test', parameters: { qualityTier: b } },
        ],
        duration: days,
        successMetrics: { primaryMetric: metric, threshold },
      });
      setName('');
      onCreated();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError('NETWORK', String(err), 0));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="form-grid" onSubmit={submit} aria-label="New A/B test">
      <label>
        Name <input type="text" value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <label>
        Control tier
        <select value={a} onChange={(e) => setA(e.target.value as Tier)}>
          {TIERS.map((t) => <option key={t.id} value={t.id}>{t.label}</option>)}
        </select>
      </label>
      <label>
        Test tier
        <select value={b} onChange={(e) => setB(e.target.value as Tier)}>
          {TIERS.map((t) => <option key={t.id} value={t.id}>{t.label}</option>)}
        </select>
      </label>
      <label>
        Days <input type="number" min={1} max={365} value={days} onChange={(e) => setDays(Number(e.target.value))} />
      </label>
      <label>
        Judged by
        <select value={metric} onChange={(e) => setMetric(e.target.value as 'user_rating' | 'pass_rate')}>
          <option value="user_rating">user rating</option>
          <option value="pass_rate">pass rate</option>
        </select>
      </label>
      <label>
        Threshold <input type="number" step="0.05" min={0} max={5} value={threshold} onChange={(e) => setThreshold(Number(e.target.value))} />
      </label>
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || !name.trim()}>
          {busy ? 'Creating…' : 'Start test'}
        </button>
      </div>
      <ErrorNote error={error} onDismiss={() => setError(null)} />
    </form>
  );
}

export function AbTestsPanel() {
  const api = useApi();
  const tests = useLoad(() => api.abTests(), [api]);
  return (
    <section className="card panel" aria-labelledby="ab-title" data-testid="ab-panel">
      <h2 id="ab-title">A/B tests</h2>
      <ErrorNote error={tests.error} />
      {tests.data && tests.data.length === 0 && <p className="muted">No tests yet.</p>}
      {tests.data?.map((t) => <TestResults key={t.id} t={t} />)}
      <details>
        <summary>New test (variants differ by quality tier)</summary>
        <NewTestForm onCreated={tests.reload} />
      </details>
    </section>
  );
}
