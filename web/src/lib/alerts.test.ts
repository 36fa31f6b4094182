import { describe, expect, it } from 'vitest';
import fixture from './fixtures/admin-alerts.json';
import { alertTypeLabel, configLines, deliveryState, deliveryText, durationText, readAlertsResponse, splitAlerts } from './alerts';

describe('readAlertsResponse', () => {
  it('reads the server answer: alerts, deliveries, config, last evaluation', () => {
    const r = readAlertsResponse(fixture)!;
    expect(r.alerts.map((a) => a.type)).toEqual(['systemHealth', 'qualityDrop', 'highCost']);
    expect(r.alerts[1]).toMatchObject({ state: 'firing', severity: 'critical', value: 0.52, threshold: 0.6, resolvedAt: null, subject: 'all' });
    expect(r.alerts[1].deliveries[1]).toEqual({
      channel: 'email',
      target: 'admin@example.test',
      event: 'firing',
      attempts: 3,
      deliveredAt: null,
      lastError: 'SMTP 550 mailbox unavailable',
    });
    expect(r.config?.qualityDrop.timeWindowMs).toBe(3_600_000);
    expect(r.config?.systemHealth.memoryThreshold).toBe(85);
    expect(r.lastEvaluatedAt).toBe('2026-12-02T07:15:00Z');
  });
  it('is null for a body that is no alerts answer, and tolerates missing fields', () => {
    expect(readAlertsResponse({ nothing: 1 })).toBeNull();
    expect(readAlertsResponse('<html>')).toBeNull();
    const r = readAlertsResponse({ alerts: [{ type: 'highCost', message: '$120 today' }, null, 7] })!;
    expect(r.alerts).toHaveLength(1);
    expect(r.alerts[0]).toMatchObject({ id: 'alert-0', state: 'firing', severity: 'warning', deliveries: [] });
    expect(r.config).toBeNull();
    expect(r.lastEvaluatedAt).toBeNull();
  });
  it('takes an alert with a resolution time and no state as resolved', () => {
    const r = readAlertsResponse({ alerts: [{ id: 'x', resolvedAt: '2026-12-02T00:00:00Z' }] })!;
    expect(r.alerts[0].state).toBe('resolved');
  });
});

describe('deliveries', () => {
  const base = { channel: 'webhook', target: 'https://h', event: 'firing', attempts: 1, deliveredAt: null, lastError: null };
  it('are delivered with a time, failed with an error, pending otherwise', () => {
    expect(deliveryState({ ...base, deliveredAt: '2026-12-02T07:00:01Z' })).toBe('delivered');
    expect(deliveryState({ ...base, lastError: 'timeout' })).toBe('failed');
    expect(deliveryState(base)).toBe('pending');
  });
  it('say how many attempts and why the last failed', () => {
    expect(deliveryText({ ...base, attempts: 3, lastError: 'HTTP 500' })).toBe('failed after 3 attempts: HTTP 500');
    expect(deliveryText({ ...base, attempts: 2 })).toBe('pending (2 attempts)');
    expect(deliveryText({ ...base, attempts: 1 })).toBe('pending (1 attempt)');
    expect(deliveryText({ ...base, attempts: 0 })).toBe('pending');
  });
});

describe('alert helpers', () => {
  it('puts firing alerts first, critical before warning, resolved apart', () => {
    const { firing, resolved } = splitAlerts(readAlertsResponse(fixture)!.alerts);
    expect(firing.map((a) => a.severity)).toEqual(['critical', 'warning']);
    expect(resolved.map((a) => a.type)).toEqual(['highCost']);
  });
  it('formats durations', () => {
    expect(durationText(45_000)).toBe('45 s');
    expect(durationText(12 * 60_000 + 5_000)).toBe('12 min');
    expect(durationText(3 * 3_600_000 + 5 * 60_000)).toBe('3 h 5 min');
    expect(durationText(2 * 3_600_000)).toBe('2 h');
    expect(durationText(52 * 3_600_000)).toBe('2 d 4 h');
    expect(durationText(-5)).toBe('0 s');
  });
  it('names the types', () => {
    expect(alertTypeLabel('qualityDrop')).toBe('Quality drop');
    expect(alertTypeLabel('diskFull')).toBe('diskFull');
  });
  it('summarises the thresholds', () => {
    const lines = configLines(readAlertsResponse(fixture)!.config!);
    expect(lines[0]).toBe('Quality drop: mean below 60 % over 60 min (at least 5 generations)');
    expect(lines[1]).toBe('High cost: spend over $100.00');
    expect(lines[2]).toBe('System health: CPU ≥ 90 % or memory ≥ 85 %');
    expect(lines[3]).toBe('Checked every 60 s · notified by 1 webhook and email');
    const quiet = configLines({ ...readAlertsResponse(fixture)!.config!, webhooks: 0, email: false });
    expect(quiet[3]).toContain('no channel');
  });
});
