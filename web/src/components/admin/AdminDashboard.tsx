import { useState } from 'react';
import type { Me } from '../../api/types';
import { adminAccess } from '../../lib/admin';
import { AnalyticsPanel } from './AnalyticsPanel';
import { ProvidersPanel } from './ProvidersPanel';
import { AbTestsPanel } from './AbTestsPanel';
import { PersonasPanel } from './PersonasPanel';
import { SystemStatsPanel } from './OptionalPanels';
import { AlertsPanel } from './AlertsPanel';

/** The message a non-admin sees (also when the server refuses an admin route). */
export function AdminsOnly() {
  return (
    <main id="main" tabIndex={-1} className="admin-page">
      <div className="card panel" role="alert" data-testid="admins-only">
        <h1>Admins only</h1>
        <p>The dashboard needs an API key with the admin role. Sign in with an admin key (created by <code>garmax users create --admin</code>).</p>
      </div>
    </main>
  );
}

export function AdminDashboard({ me }: { me: Me }) {
  const [serverError, setServerError] = useState<unknown>(null);
  if (adminAccess(me, serverError) === 'denied') return <AdminsOnly />;
  return (
    <main id="main" tabIndex={-1} className="admin-page" data-testid="admin-dashboard">
      <h1>Admin dashboard</h1>
      <div className="admin-grid">
        <AnalyticsPanel onDenied={setServerError} />
        <SystemStatsPanel />
        <AlertsPanel />
        <ProvidersPanel />
        <AbTestsPanel />
        <PersonasPanel />
      </div>
    </main>
  );
}
