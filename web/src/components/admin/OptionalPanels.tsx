import { useEffect } from 'react';
import { useApi } from '../../hooks/useApi';
import { flattenStats, readAlerts } from '../../lib/admin';
import { when } from '../../lib/format';
import { ErrorNote } from '../ErrorNote';
import { useLoad } from './useLoad';

// System stats and alerts: routes the seed names but this server may not
// have yet. A 404 shows "not available on this server"; once the server
// answers, whatever it sends is shown (their shapes are not settled).

const REFRESH_MS = 10_000;

function NotAvailable({ path }: { path: string }) {
  return (
    <p className="muted" data-testid="not-available">
      Not available on this server (<code>GET {path}</code> has no JSON answer).
    </p>
  );
}

export function SystemStatsPanel() {
  const api = useApi();
  const s = useLoad(() => api.optional<unknown>('/api/admin/system-stats'), [api]);
  const available = s.data?.available;
  // Real time: re-read while the endpoint exists.
  useEffect(() => {
    if (!available) return;
    const t = setInterval(s.reload, REFRESH_MS);
    return () => clearInterval(t);
  }, [available, s.reload]);
  const rows = s.data?.available ? flattenStats(s.data.data) : [];
  return (
    <section className="card panel" aria-labelledby="stats-title" data-testid="system-stats-panel" data-available={available == null ? '' : String(available)}>
      <h2 id="stats-title">System stats</h2>
      <ErrorNote error={s.error} />
      {s.data && !s.data.available && <NotAvailable path="/api/admin/system-stats" />}
      {s.data?.available && (
        <dl className="facts">
          {rows.map((r) => (
            <div key={r.key} className="fact-row">
              <dt>{r.key}</dt>
              <dd>{r.value}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}

export function AlertsPanel() {
  const api = useApi();
  const a = useLoad(() => api.optional<unknown>('/api/admin/alerts'), [api]);
  const alerts = a.data?.available ? readAlerts(a.data.data) : [];
  return (
    <section className="card panel" aria-labelledby="alerts-title" data-testid="alerts-panel" data-available={a.data == null ? '' : String(a.data.available)}>
      <h2 id="alerts-title">Alerts</h2>
      <ErrorNote error={a.error} />
      {a.data && !a.data.available && <NotAvailable path="/api/admin/alerts" />}
      {a.data?.available && alerts.length === 0 && <p className="muted">No alerts firing.</p>}
      {alerts.length > 0 && (
        <ul className="plain-list">
          {alerts.map((x) => (
            <li key={x.id} className={`alert alert-${x.severity}`} data-testid="alert">
              <strong>{x.name}</strong> <span className="badge">{x.severity}</span> {x.message}
              {x.since && <span className="muted small"> · since {when(x.since)}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
