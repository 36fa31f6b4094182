import type { Me } from '../api/types';

export type Tab = 'studio' | 'gallery';

interface Props {
  me: Me;
  tab: Tab;
  onTab(t: Tab): void;
  onSignOut(): void;
}

export function Header({ me, tab, onTab, onSignOut }: Props) {
  return (
    <header className="app-header">
      <div className="brand">garmax studio</div>
      <nav aria-label="Main">
        <button type="button" className={`tab${tab === 'studio' ? ' current' : ''}`} aria-current={tab === 'studio' ? 'page' : undefined} onClick={() => onTab('studio')}>
          Studio
        </button>
        <button type="button" className={`tab${tab === 'gallery' ? ' current' : ''}`} aria-current={tab === 'gallery' ? 'page' : undefined} onClick={() => onTab('gallery')}>
          Gallery
        </button>
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
