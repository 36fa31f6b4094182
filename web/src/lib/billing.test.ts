import { describe, expect, it } from 'vitest';
import { checkoutTarget, formatCreditAmount, ledgerKindLabel, mergeLedgerPages, upgradesFrom, usageOf } from './billing';
import type { LedgerEntry } from '../api/types';

const entry = (id: string, at: string, amount = -10, kind = 'hold'): LedgerEntry => ({ id, kind, amount, createdAt: at });

describe('mergeLedgerPages', () => {
  it('appends the next page, newest first', () => {
    const first = [entry('c', '2026-01-03T00:00:00Z'), entry('b', '2026-01-02T00:00:00Z')];
    const next = [entry('a', '2026-01-01T00:00:00Z')];
    expect(mergeLedgerPages(first, next).map((e) => e.id)).toEqual(['c', 'b', 'a']);
  });
  it('drops entries already shown when pages overlap', () => {
    const first = [entry('c', '2026-01-03T00:00:00Z'), entry('b', '2026-01-02T00:00:00Z')];
    const next = [entry('b', '2026-01-02T00:00:00Z'), entry('a', '2026-01-01T00:00:00Z')];
    const merged = mergeLedgerPages(first, next);
    expect(merged.map((e) => e.id)).toEqual(['c', 'b', 'a']);
  });
  it('keeps the server order of entries written in the same millisecond', () => {
    const same = '2026-01-02T00:00:00Z';
    expect(mergeLedgerPages([entry('x', same), entry('y', same)], [entry('z', same)]).map((e) => e.id)).toEqual(['x', 'y', 'z']);
  });
});

describe('amounts and kinds', () => {
  it('signs amounts with a real minus', () => {
    expect(formatCreditAmount(100)).toBe('+100');
    expect(formatCreditAmount(-15)).toBe('\u221215');
    expect(formatCreditAmount(0)).toBe('0');
  });
  it('labels kinds, passing unknown ones through', () => {
    expect(ledgerKindLabel('refund')).toBe('Refunded');
    expect(ledgerKindLabel('bonus')).toBe('bonus');
  });
});

describe('usageOf', () => {
  it('is a fraction of the limit, capped at 1', () => {
    expect(usageOf(5, 20)).toMatchObject({ fraction: 0.25, text: '5 of 20', over: false });
    expect(usageOf(30, 20)).toMatchObject({ fraction: 1, over: true });
  });
  it('says when the plan includes none', () => {
    expect(usageOf(0, 0)).toMatchObject({ fraction: 0, text: 'none included', over: false });
    expect(usageOf(2, 0).over).toBe(true);
  });
});

describe('upgradesFrom', () => {
  it('offers the plans above the current one', () => {
    expect(upgradesFrom('free')).toEqual(['studio', 'pro']);
    expect(upgradesFrom('studio')).toEqual(['pro']);
    expect(upgradesFrom('pro')).toEqual([]);
    expect(upgradesFrom('enterprise')).toEqual([]);
  });
});

describe('checkoutTarget', () => {
  it('accepts http(s) URLs only', () => {
    expect(checkoutTarget('https://checkout.stripe.com/c/pay/cs_1')).toBe('https://checkout.stripe.com/c/pay/cs_1');
    expect(checkoutTarget('javascript:alert(1)')).toBeNull();
    expect(checkoutTarget('/relative')).toBeNull();
    expect(checkoutTarget(undefined)).toBeNull();
  });
});

describe('actorLabel', () => {
  it('names who wrote an entry', async () => {
    const { actorLabel } = await import('./billing');
    expect(actorLabel('user:u1', 'u1')).toBe('you');
    expect(actorLabel('user:u2', 'u1')).toBe('another user');
    expect(actorLabel('system', 'u1')).toBe('garmax');
    expect(actorLabel('admin:a', 'u1')).toBe('an admin');
    expect(actorLabel('stripe', 'u1')).toBe('Stripe');
    expect(actorLabel(undefined, 'u1')).toBe('');
  });
});
