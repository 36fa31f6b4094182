import { useCallback, useEffect, useState } from 'react';
import type { LedgerEntry, PlanInfo } from '../api/types';
import { ApiError } from '../api/errors';
import { useApi } from '../hooks/useApi';
import { actorLabel, checkoutTarget, formatCreditAmount, ledgerKindLabel, mergeLedgerPages, upgradesFrom, usageOf, type Usage } from '../lib/billing';
import { shortId, when } from '../lib/format';
import { ErrorNote } from './ErrorNote';
import { TableScroll } from './TableScroll';

const PAGE = 20;
const asError = (e: unknown) => (e instanceof ApiError ? e : new ApiError('NETWORK', String(e), 0));

interface Props {
  /** Where the browser goes for Stripe Checkout (replaced in tests). */
  redirect?: (url: string) => void;
  /** The reader's user id: their own entries say "you". */
  meId?: string;
}

export function BillingPage({ redirect = (u) => window.location.assign(u), meId }: Props) {
  const api = useApi();
  const [plan, setPlan] = useState<PlanInfo | null>(null);
  const [balance, setBalance] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const load = useCallback(async () => {
    setError(null);
    try {
      const [p, b] = await Promise.all([api.plan(), api.balance()]);
      setPlan(p);
      setBalance(b.balance);
    } catch (e) {
      setError(asError(e));
    }
  }, [api]);
  useEffect(() => void load(), [load]);

  return (
    <main id="main" tabIndex={-1} className="billing-page" data-testid="billing-page">
      <div className="page-head">
        <h1>Billing</h1>
        <button type="button" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      <ErrorNote error={error} />
      <div className="columns">
        <section className="card panel" aria-labelledby="balance-title">
          <h2 id="balance-title">Balance</h2>
          <p className="big-number" data-testid="billing-balance" data-balance={balance ?? ''}>
            {balance == null ? '…' : <><strong>{balance}</strong> credits</>}
          </p>
          {plan && <PlanSummary plan={plan} />}
        </section>
        {plan && <UpgradePanel plan={plan.plan} redirect={redirect} />}
      </div>
      <Ledger meId={meId} />
    </main>
  );
}

function UsageBar({ label, usage }: { label: string; usage: Usage }) {
  return (
    <div className="usage">
      <div className="usage-head">
        <span>{label}</span>
        <span className={usage.over ? 'usage-over' : ''}>{usage.text}</span>
      </div>
      <progress max={1} value={usage.fraction} aria-label={`${label}: ${usage.text}`} />
    </div>
  );
}

function PlanSummary({ plan }: { plan: PlanInfo }) {
  return (
    <div className="plan" data-testid="billing-plan" data-plan={plan.plan}>
      <p>
        Plan <span className="chip">{plan.plan}</span> · {plan.limits.monthlyCredits} credits a month
        {plan.planEndsAt ? ` · ends ${when(plan.planEndsAt)}` : ''}
      </p>
      <p className="muted small">
        This period: {when(plan.periodStart)} – {when(plan.periodEnd)}
      </p>
      <UsageBar label="Avatars" usage={usageOf(plan.usage.avatars, plan.limits.avatarsPerMonth)} />
      <UsageBar label="Try-ons" usage={usageOf(plan.usage.tryons, plan.limits.tryonsPerMonth)} />
    </div>
  );
}

function UpgradePanel({ plan, redirect }: { plan: string; redirect(url: string): void }) {
  const api = useApi();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const options = upgradesFrom(plan);

  const buy = async (target: string) => {
    setBusy(target);
    setError(null);
    try {
      const c = await api.checkout(target);
      const url = checkoutTarget(c.url);
      if (!url) throw new ApiError('BAD_RESPONSE', 'The server answered a checkout without a usable URL.', 201);
      redirect(url);
    } catch (e) {
      setError(asError(e));
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="card panel" aria-labelledby="upgrade-title" data-testid="upgrade">
      <h2 id="upgrade-title">Upgrade</h2>
      {options.length === 0 ? (
        <p className="muted">You are on the highest plan.</p>
      ) : (
        <div className="actions">
          {options.map((p) => (
            <button key={p} type="button" className="primary" onClick={() => void buy(p)} disabled={busy != null} data-testid={`upgrade-${p}`}>
              {busy === p ? 'Opening checkout…' : `Upgrade to ${p}`}
            </button>
          ))}
        </div>
      )}
      <p className="muted small">Payment is handled by Stripe Checkout; the plan changes once Stripe confirms it.</p>
      <ErrorNote error={error} onDismiss={() => setError(null)} />
    </section>
  );
}

/** The ledger, newest first, a page at a time (cursor pagination). */
export function Ledger({ meId }: { meId?: string }) {
  const api = useApi();
  const [entries, setEntries] = useState<LedgerEntry[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const more = useCallback(
    async (from: string | null | undefined, reset: boolean) => {
      setLoading(true);
      setError(null);
      try {
        const page = await api.ledger(PAGE, from);
        setEntries((shown) => mergeLedgerPages(reset ? [] : shown, page.items));
        setCursor(page.nextCursor ?? null);
      } catch (e) {
        setError(asError(e));
      } finally {
        setLoading(false);
      }
    },
    [api],
  );
  useEffect(() => void more(undefined, true), [more]);

  return (
    <section className="card panel" aria-labelledby="ledger-title">
      <h2 id="ledger-title">Ledger</h2>
      <TableScroll label="Credit ledger">
        <table className="data-table" data-testid="ledger">
          <caption className="sr-only">Credit ledger, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What</th>
              <th scope="col" className="num">Credits</th>
              <th scope="col">For</th>
              <th scope="col" className="col-by">By</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id} data-testid="ledger-entry" data-kind={e.kind} data-subject={e.subject ?? ''} data-amount={e.amount}>
                <td>{when(e.createdAt)}</td>
                <td>
                  {ledgerKindLabel(e.kind)}
                  {e.reason ? <span className="muted small"> · {e.reason}</span> : null}
                </td>
                <td className={`num ${e.amount < 0 ? 'neg' : e.amount > 0 ? 'pos' : ''}`}>{formatCreditAmount(e.amount)}</td>
                <td>{e.subject ? <code title={e.subject}>{shortId(e.subject)}</code> : '—'}</td>
                <td className="muted small col-by" title={e.actor}>{actorLabel(e.actor, meId)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
      {!loading && entries.length === 0 && !error && <p className="muted">No entries yet.</p>}
      <ErrorNote error={error} />
      <div className="actions">
        {cursor && (
          <button type="button" onClick={() => void more(cursor, false)} disabled={loading} data-testid="ledger-more">
            {loading ? 'Loading…' : 'Load older entries'}
          </button>
        )}
        {loading && !cursor && <span role="status">Loading…</span>}
      </div>
    </section>
  );
}
