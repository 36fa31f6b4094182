// Reading `GET /api/admin/alerts` and the words the alerts panel shows for
// it. The reader checks each field rather than casting: the panel must not
// crash on a server that sends an older or partial shape.

import type { Alert, AlertConfig, AlertDelivery, AlertsResponse } from '../api/admin-types';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function readDelivery(d: unknown): AlertDelivery | null {
  if (!isObj(d)) return null;
  return {
    channel: str(d.channel) ?? 'unknown',
    target: str(d.target) ?? '',
    event: str(d.event) ?? 'firing',
    attempts: num(d.attempts) ?? 0,
    deliveredAt: str(d.deliveredAt),
    lastError: str(d.lastError),
  };
}

function readAlert(a: unknown, i: number): Alert | null {
  if (!isObj(a)) return null;
  // An alert without a fired time (older shapes said `since`) still shows.
  const firedAt = str(a.firedAt) ?? str(a.since) ?? '';
  const resolvedAt = str(a.resolvedAt);
  const state = a.state === 'resolved' || (a.state == null && resolvedAt) ? 'resolved' : 'firing';
  return {
    id: str(a.id) ?? `alert-${i}`,
    type: str(a.type) ?? 'alert',
    subject: str(a.subject) ?? 'all',
    state,
    severity: str(a.severity) ?? 'warning',
    message: str(a.message) ?? '',
    value: num(a.value),
    threshold: num(a.threshold),
    firedAt,
    resolvedAt,
    deliveries: Array.isArray(a.deliveries) ? a.deliveries.map(readDelivery).filter((d): d is AlertDelivery => d !== null) : [],
  };
}

function readConfig(c: unknown): AlertConfig | null {
  if (!isObj(c)) return null;
  const q = isObj(c.qualityDrop) ? c.qualityDrop : {};
  const h = isObj(c.highCost) ? c.highCost : {};
  const s = isObj(c.systemHealth) ? c.systemHealth : {};
  return {
    evaluateEverySecs: num(c.evaluateEverySecs) ?? 0,
    qualityDrop: { threshold: num(q.threshold) ?? 0, timeWindowMs: num(q.timeWindowMs) ?? 0, minSamples: num(q.minSamples) ?? 0, recipients: strings(q.recipients) },
    highCost: { threshold: num(h.threshold) ?? 0, recipients: strings(h.recipients) },
    systemHealth: { cpuThreshold: num(s.cpuThreshold) ?? 0, memoryThreshold: num(s.memoryThreshold) ?? 0, recipients: strings(s.recipients) },
    webhooks: num(c.webhooks) ?? 0,
    email: c.email === true,
  };
}

/** The alerts answer, or null when the body is not one (no `alerts` list). */
export function readAlertsResponse(body: unknown): AlertsResponse | null {
  const list = Array.isArray(body) ? body : isObj(body) ? body.alerts : null;
  if (!Array.isArray(list)) return null;
  return {
    alerts: list.map(readAlert).filter((a): a is Alert => a !== null),
    config: isObj(body) ? readConfig(body.config) : null,
    lastEvaluatedAt: isObj(body) ? str(body.lastEvaluatedAt) : null,
  };
}

export type DeliveryState = 'delivered' | 'failed' | 'pending';

/** Delivered once it has a time; failed when the last try left an error; else still pending. */
export function deliveryState(d: AlertDelivery): DeliveryState {
  if (d.deliveredAt) return 'delivered';
  return d.lastError ? 'failed' : 'pending';
}

/** "delivered", "pending (2 attempts)", "failed after 3 attempts: timeout". */
export function deliveryText(d: AlertDelivery): string {
  const tries = `${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`;
  switch (deliveryState(d)) {
    case 'delivered':
      return 'delivered';
    case 'failed':
      return `failed after ${tries}: ${d.lastError}`;
    default:
      return d.attempts > 0 ? `pending (${tries})` : 'pending';
  }
}

/** A duration as "45 s", "12 min", "3 h 5 min", "2 d 4 h" (the age of a firing alert). */
export function durationText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

const TYPE_LABELS: Record<string, string> = { qualityDrop: 'Quality drop', highCost: 'High cost', systemHealth: 'System health' };

/** "Quality drop", "High cost", "System health"; an unknown type as it came. */
export function alertTypeLabel(type: string): string {
  return TYPE_LABELS[type] ?? type;
}

/** Firing first, critical before warning; otherwise the server's order (newest first). */
export function splitAlerts(alerts: Alert[]): { firing: Alert[]; resolved: Alert[] } {
  const rank = (a: Alert) => (a.severity === 'critical' ? 0 : 1);
  const firing = alerts.filter((a) => a.state === 'firing');
  // Array.prototype.sort is stable, so equal severities keep newest first.
  firing.sort((a, b) => rank(a) - rank(b));
  return { firing, resolved: alerts.filter((a) => a.state === 'resolved') };
}

/** The thresholds as short lines for the panel's summary. */
export function configLines(c: AlertConfig): string[] {
  const minutes = Math.round(c.qualityDrop.timeWindowMs / 60_000);
  const channels = [c.webhooks > 0 ? `${c.webhooks} webhook${c.webhooks === 1 ? '' : 's'}` : null, c.email ? 'email' : null].filter(Boolean);
  return [
    `Quality drop: mean below ${Math.round(c.qualityDrop.threshold * 100)} % over ${minutes} min (at least ${c.qualityDrop.minSamples} generations)`,
    `High cost: spend over $${c.highCost.threshold.toFixed(2)}`,
    `System health: CPU ≥ ${c.systemHealth.cpuThreshold} % or memory ≥ ${c.systemHealth.memoryThreshold} %`,
    `Checked every ${c.evaluateEverySecs} s · notified by ${channels.length ? channels.join(' and ') : 'no channel (none configured)'}`,
  ];
}
