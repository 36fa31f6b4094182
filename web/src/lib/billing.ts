// Pure helpers of the billing page: the ledger's pages, amounts, plan usage
// and which plans can be bought from the current one.

import type { LedgerEntry } from '../api/types';

/**
 * The ledger after loading another page: entries already shown are not
 * repeated (a page fetched after new entries were written can overlap the
 * previous one), and the list stays newest first.
 */
export function mergeLedgerPages(shown: LedgerEntry[], page: LedgerEntry[]): LedgerEntry[] {
  const seen = new Set(shown.map((e) => e.id));
  const merged = [...shown, ...page.filter((e) => !seen.has(e.id))];
  // Stable sort: entries written in the same millisecond keep the server's order.
  return merged
    .map((e, i) => ({ e, i, t: Date.parse(e.createdAt) }))
    .sort((a, b) => (b.t - a.t) || a.i - b.i)
    .map((x) => x.e);
}

/** "+100", "−15" (a real minus sign), "0". */
export function formatCreditAmount(amount: number): string {
  if (amount > 0) return `+${amount}`;
  if (amount < 0) return `\u2212${Math.abs(amount)}`;
  return '0';
}

const KIND_LABELS: Record<string, string> = {
  grant: 'Credits granted',
  purchase: 'Credits bought',
  hold: 'Held for a job',
  capture: 'Charged',
  release: 'Hold released',
  refund: 'Refunded',
  adjustment: 'Adjustment',
};

export function ledgerKindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind;
}

export interface Usage {
  used: number;
  limit: number;
  /** 0–1 for the bar; 1 when the plan includes none and some were used. */
  fraction: number;
  text: string;
  over: boolean;
}

export function usageOf(used: number, limit: number): Usage {
  if (limit <= 0) {
    return { used, limit, fraction: used > 0 ? 1 : 0, text: used > 0 ? `${used} used, none included` : 'none included', over: used > 0 };
  }
  return { used, limit, fraction: Math.min(1, used / limit), text: `${used} of ${limit}`, over: used >= limit };
}

/** The plans of docs/api, cheapest first. */
export const PLAN_ORDER = ['free', 'studio', 'pro'] as const;

/** Plans above the current one (what an upgrade button can buy). */
export function upgradesFrom(plan: string): string[] {
  const i = PLAN_ORDER.indexOf(plan as (typeof PLAN_ORDER)[number]);
  // An unknown plan (a custom one in the server's config): offer nothing
  // rather than guess its rank.
  if (i < 0) return [];
  return PLAN_ORDER.slice(i + 1).filter((p) => p !== 'free');
}

/**
 * The checkout URL to send the browser to, or null when it is not an
 * http(s) URL: the page must not navigate to `javascript:` or the like even
 * if a misconfigured server answers one.
 */
export function checkoutTarget(url: unknown): string | null {
  if (typeof url !== 'string') return null;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

/** Who wrote an entry, in words: "you" for the reader's own actions. */
export function actorLabel(actor: string | undefined, myId: string | undefined): string {
  if (!actor) return '';
  if (myId && actor === `user:${myId}`) return 'you';
  if (actor === 'system') return 'garmax';
  if (actor === 'stripe') return 'Stripe';
  if (actor === 'cli') return 'operator (CLI)';
  if (actor.startsWith('admin:')) return 'an admin';
  if (actor.startsWith('user:')) return 'another user';
  return actor;
}
