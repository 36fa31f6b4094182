import { useApi } from '../../hooks/useApi';
import { ErrorNote } from '../ErrorNote';
import { useLoad } from './useLoad';
import { TableScroll } from '../TableScroll';

const usd = (v: number | null | undefined) => (v == null ? '—' : `$${v.toFixed(2)}`);

export function ProvidersPanel() {
  const api = useApi();
  const p = useLoad(() => api.providers(), [api]);
  const d = p.data;
  return (
    <section className="card panel" aria-labelledby="providers-title" data-testid="providers-panel">
      <h2 id="providers-title">Providers</h2>
      <ErrorNote error={p.error} />
      {d && (
        <>
          <p className="small">
            Chain: <strong data-testid="default-chain">{d.defaultChain.join(' → ')}</strong>
            {d.split.enabled ? ` · split ${d.split.percent}% to ${d.splitChain.join(' → ')}` : ''} · spent today {usd(d.globalSpend.spent_usd)}
          </p>
          <TableScroll label="Provider breakers and spend">
            <table className="data-table">
              <caption className="sr-only">Provider breakers and spend</caption>
              <thead>
                <tr>
                  <th scope="col">Provider</th>
                  <th scope="col">Breaker</th>
                  <th scope="col" className="num">Spent today</th>
                  <th scope="col" className="num">Budget</th>
                </tr>
              </thead>
              <tbody>
                {d.status.map((s) => (
                  <tr key={s.name} data-testid="provider-row" data-breaker={s.breaker}>
                    <td>
                      {s.name} <span className="muted small">{s.kind}</span>
                    </td>
                    <td>
                      <span className={`badge breaker-${s.breaker}`}>{s.breaker.replace('_', ' ')}</span>
                    </td>
                    <td className="num">{usd(s.spend_today.spent_usd)}</td>
                    <td className="num">{usd(s.daily_budget_usd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
          <details>
            <summary>Configured endpoints ({d.endpoints.length})</summary>
            <ul className="plain-list small">
              {d.endpoints.map((e) => (
                <li key={e.name}>
                  <strong>{e.name}</strong> {e.kind} {e.model ?? ''} — {e.has_key ? 'key set' : `no key (${e.key_env ?? 'unset'})`}
                </li>
              ))}
            </ul>
          </details>
        </>
      )}
    </section>
  );
}
