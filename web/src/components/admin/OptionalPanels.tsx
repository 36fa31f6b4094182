import { useEffect } from 'react';
import { useApi } from '../../hooks/useApi';
import type { SystemStats } from '../../api/admin-types';
import { flattenStats, formatBytes, isSystemStats, loadLevel } from '../../lib/admin';
import { pct } from '../../lib/format';
import { ErrorNote } from '../ErrorNote';
import { useLoad } from './useLoad';
import { TableScroll } from '../TableScroll';

// System stats (and, in AlertsPanel.tsx, alerts): routes the seed names but
// this server may not have yet. A 404 shows "not available on this server";
// once the server answers, what it sends is shown.

const REFRESH_MS = 10_000;

export function NotAvailable({ path }: { path: string }) {
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
  const body = s.data?.available ? s.data.data : null;
  const rows = body && !isSystemStats(body) ? flattenStats(body) : [];
  return (
    <section className="card panel" aria-labelledby="stats-title" data-testid="system-stats-panel" data-available={available == null ? '' : String(available)}>
      <h2 id="stats-title">System stats</h2>
      <ErrorNote error={s.error} />
      {s.data && !s.data.available && <NotAvailable path="/api/admin/system-stats" />}
      {isSystemStats(body) && <SystemStatsView stats={body} />}
      {rows.length > 0 && (
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

/** One load gauge: a native meter (announced with its value) and the number. */
function Gauge({ label, percent, threshold, detail }: { label: string; percent: number; threshold: number; detail: string }) {
  const level = loadLevel(percent, threshold);
  return (
    <div className={`gauge gauge-${level}`} data-testid={`gauge-${label.toLowerCase()}`} data-level={level}>
      <label>
        <span>{label}</span>
        <meter min={0} max={100} low={threshold - 15} high={threshold} optimum={0} value={percent}>
          {Math.round(percent)} %
        </meter>
        <span className="gauge-number">{Math.round(percent)} %</span>
      </label>
      <span className="muted small">{detail}</span>
    </div>
  );
}

function SystemStatsView({ stats }: { stats: SystemStats }) {
  const { host, process, disk, queue, workers, api } = stats;
  const codes = Object.entries(api.errorsByCode).sort((a, b) => b[1] - a[1]);
  return (
    <div className="system-stats">
      <div className="gauges">
        <Gauge label="CPU" percent={host.cpuPercent} threshold={90} detail={`${host.cpus} cores · this process ${Math.round(process.cpuPercent)} % of one`} />
        <Gauge
          label="Memory"
          percent={host.memoryPercent}
          threshold={85}
          detail={`${formatBytes(host.memoryUsedBytes)} of ${formatBytes(host.memoryTotalBytes)} · this process ${formatBytes(process.memoryBytes)}`}
        />
        {disk && <Gauge label="Disk" percent={disk.usedPercent} threshold={90} detail={`${formatBytes(disk.usedBytes)} of ${formatBytes(disk.totalBytes)} on ${disk.mountPoint}`} />}
      </div>
      <dl className="facts inline-facts">
        <dt>Queue</dt>
        <dd data-testid="stats-queue">
          {queue.queued} queued · {queue.running} running · {queue.failed} failed · oldest waiting {queue.oldestQueuedSeconds.toFixed(0)} s
        </dd>
        <dt>Workers</dt>
        <dd>{workers.length === 0 ? 'none busy' : workers.map((w) => `${w.worker}: ${w.running}`).join(' · ')}</dd>
        <dt>API ({Math.round(api.windowSeconds / 60)} min)</dt>
        <dd data-testid="stats-api">
          {api.requests} requests · p50 {api.p50Ms.toFixed(1)} ms · p95 {api.p95Ms.toFixed(1)} ms · p99 {api.p99Ms.toFixed(1)} ms · 5xx {pct(api.serverErrorRate, 1)}
        </dd>
      </dl>
      {queue.byKind.length > 0 && (
        <TableScroll label="Waiting jobs by kind">
          <table>
            <caption>Waiting jobs by kind</caption>
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Queued</th>
                <th scope="col">Oldest ready</th>
              </tr>
            </thead>
            <tbody>
              {queue.byKind.map((k) => (
                <tr key={k.kind}>
                  <td>{k.kind}</td>
                  <td>{k.queued}</td>
                  <td>{k.oldestReadySeconds.toFixed(0)} s</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      {codes.length > 0 && (
        <TableScroll label="Errors by code">
          <table data-testid="stats-errors">
            <caption>Errors by code</caption>
            <thead>
              <tr>
                <th scope="col">Code</th>
                <th scope="col">Answers</th>
              </tr>
            </thead>
            <tbody>
              {codes.map(([code, n]) => (
                <tr key={code}>
                  <td>
                    <code>{code}</code>
                  </td>
                  <td>{n}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </div>
  );
}
