import { useEffect, useState } from 'react';
import type { Alert, AlertConfig, AlertDelivery } from '../../api/admin-types';
import { useApi } from '../../hooks/useApi';
import { alertTypeLabel, configLines, deliveryState, deliveryText, durationText, readAlertsResponse, splitAlerts } from '../../lib/alerts';
import { when } from '../../lib/format';
import { ErrorNote } from '../ErrorNote';
import { NotAvailable } from './OptionalPanels';
import { useLoad } from './useLoad';

// Firing alerts up front, resolved ones folded away, each with where its
// notifications went. Older servers have no alerts route: a 404 (or the
// studio's index.html) shows "not available".

const PATH = '/api/admin/alerts';
/** The server evaluates about once a minute; reading twice as often is enough. */
const REFRESH_MS = 30_000;
const LIMIT = 50;

function Deliveries({ deliveries }: { deliveries: AlertDelivery[] }) {
  if (deliveries.length === 0) return <p className="muted small">No notifications sent (no channel configured).</p>;
  return (
    <ul className="plain-list small deliveries" aria-label="Notifications">
      {deliveries.map((d, i) => {
        const state = deliveryState(d);
        return (
          <li key={`${d.channel}-${d.target}-${d.event}-${i}`} data-testid="alert-delivery" data-state={state}>
            <span className={`badge delivery-${state}`}>{state}</span> {d.event} → {d.channel} <span className="break">{d.target}</span>
            {state !== 'delivered' && <span className="muted"> · {deliveryText(d)}</span>}
            {d.deliveredAt && <span className="muted"> · {when(d.deliveredAt)}</span>}
          </li>
        );
      })}
    </ul>
  );
}

function AlertItem({ alert, now }: { alert: Alert; now: number }) {
  const fired = Date.parse(alert.firedAt);
  const firing = alert.state === 'firing';
  return (
    <li className={`alert alert-${alert.severity} alert-${alert.state}`} data-testid="alert" data-state={alert.state} data-severity={alert.severity}>
      <div className="alert-head">
        <strong>{alertTypeLabel(alert.type)}</strong>
        <span className={`badge severity-${alert.severity}`}>{alert.severity}</span>
        {alert.subject !== 'all' && <span className="muted small">on {alert.subject}</span>}
      </div>
      <p className="alert-message">{alert.message}</p>
      <p className="muted small" data-testid="alert-time">
        {firing
          ? Number.isNaN(fired)
            ? 'firing'
            : `firing for ${durationText(now - fired)}, since ${when(alert.firedAt)}`
          : `fired ${when(alert.firedAt)}, resolved ${when(alert.resolvedAt)}`}
      </p>
      <Deliveries deliveries={alert.deliveries} />
    </li>
  );
}

function ConfigSummary({ config, lastEvaluatedAt }: { config: AlertConfig; lastEvaluatedAt: string | null }) {
  return (
    <details className="alert-config" data-testid="alert-config">
      <summary>Thresholds</summary>
      <ul className="plain-list small">
        {configLines(config).map((l) => (
          <li key={l}>{l}</li>
        ))}
        <li>Last checked: {lastEvaluatedAt ? when(lastEvaluatedAt) : 'not yet'}</li>
      </ul>
    </details>
  );
}

export function AlertsPanel() {
  const api = useApi();
  const a = useLoad(() => api.optional<unknown>(`${PATH}?state=all&limit=${LIMIT}`), [api]);
  const { reload } = a;
  const available = a.data?.available;
  const body = a.data?.available ? readAlertsResponse(a.data.data) : null;
  // "firing for 12 min" is computed against a clock that moves with each re-read.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!available) return;
    const t = setInterval(() => {
      setNow(Date.now());
      reload();
    }, REFRESH_MS);
    return () => clearInterval(t);
  }, [available, reload]);
  const { firing, resolved } = splitAlerts(body?.alerts ?? []);
  return (
    <section className="card panel" aria-labelledby="alerts-title" data-testid="alerts-panel" data-available={available == null ? '' : String(available)}>
      <h2 id="alerts-title">Alerts</h2>
      <ErrorNote error={a.error} />
      {a.data && !a.data.available && <NotAvailable path={PATH} />}
      {body && firing.length === 0 && (
        <p className="muted" data-testid="no-alerts">
          No alerts firing.
        </p>
      )}
      {firing.length > 0 && (
        <ul className="plain-list alerts" aria-label="Firing alerts" data-testid="firing-alerts">
          {firing.map((x) => (
            <AlertItem key={x.id} alert={x} now={now} />
          ))}
        </ul>
      )}
      {resolved.length > 0 && (
        <details data-testid="resolved-alerts">
          <summary>Recently resolved ({resolved.length})</summary>
          <ul className="plain-list alerts">
            {resolved.map((x) => (
              <AlertItem key={x.id} alert={x} now={now} />
            ))}
          </ul>
        </details>
      )}
      {body?.config && <ConfigSummary config={body.config} lastEvaluatedAt={body.lastEvaluatedAt} />}
    </section>
  );
}
