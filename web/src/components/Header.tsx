import type { Me } from '../api/types';

import type { Route } from '../lib/routes';

const TABS: { id: Route; label: string; admin?: boolean }[] = [
  { id: 'studio', label: 'Studio' },
  { id: 'catalogue', label: 'Catalogue' },
  { id: 'gallery', label: 'Gallery' },
  { id: 'billing', label: 'Billing' },
  { id: 'admin', label: 'Admin', admin: true },
];

interface Props {
  me: Me;
  tab: Route;
  onTab(t: Route): void;
  onSignOut(): void;
}

export function Header({ me, tab, onTab, onSignOut }: Props) {
  return (
    <header className="app-header">
      <div className="brand">garmax studio</div>
      <nav aria-label="Main">
        {TABS.filter((t) => !t.admin || me.role === 'admin').map((t) => (
          <button
            key={t.id}
            type="button"
            className={`tab${tab === t.id ? ' current' : ''}`}
            aria-current={tab === t.id ? 'page' : undefined}
            onClick={() => onTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </nav>
      <div className="account" aria-label="Account">
        <span className="user-name" data-testid="user-name">{me.name}</span>
        <span className="chip" data-testid="user-plan" title="Plan">{me.plan}</span>
        <span className="credits" data-testid="user-credits" aria-label={`${me.credits} credits`}>
          <strong>{me.credits}</strong> credits
        </span>
        <button type="button" className="link" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
