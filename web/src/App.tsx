import { Suspense, lazy, useCallback, useEffect, useMemo, useState } from 'react';
import { ApiClient, loadToken, saveToken } from './api/client';
import { ApiError } from './api/errors';
import type { Avatar, Garment, Me, Quality, Tier } from './api/types';
import { ApiContext, useApi } from './hooks/useApi';
import { SignIn } from './components/SignIn';
import { Header } from './components/Header';
import { BillingPage } from './components/BillingPage';
import { CataloguePage } from './components/CataloguePage';
import { routeOf, urlOf, type Route } from './lib/routes';
import { AvatarPanel } from './components/AvatarPanel';
import { GarmentPanel } from './components/GarmentPanel';
import { QualityControls } from './components/QualityControls';
import { ProcessingModal } from './components/ProcessingModal';
import { Gallery } from './components/Gallery';
import { ErrorNote } from './components/ErrorNote';
import { qualityCost } from './lib/quality';

// The dashboard is its own chunk: shoppers never download it.
const AdminDashboard = lazy(() => import('./components/admin/AdminDashboard').then((m) => ({ default: m.AdminDashboard })));

function currentRoute(): Route {
  return routeOf(window.location.pathname, window.location.hash);
}

/**
 * Focuses the page's <main>. The tabs are hash routes, so following `#main`
 * would switch the page to the studio; the link keeps its href (so it is a
 * link to assistive technology) and moves focus itself.
 */
function SkipLink() {
  return (
    <a
      href="#main"
      className="skip-link"
      onClick={(e) => {
        e.preventDefault();
        document.getElementById('main')?.focus();
      }}
    >
      Skip to content
    </a>
  );
}

export function App() {
  const [token, setToken] = useState<string | null>(() => loadToken());
  const [me, setMe] = useState<Me | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = useCallback((why?: string) => {
    saveToken(null);
    setToken(null);
    setMe(null);
    setNotice(why ?? null);
  }, []);

  const api = useMemo(() => {
    if (!token) return null;
    const c = new ApiClient(token);
    c.onUnauthorized = () => signOut('Your key was refused (AUTH_001). Sign in again.');
    return c;
  }, [token, signOut]);

  const refreshMe = useCallback(async () => {
    if (!api) return;
    try {
      setMe(await api.me());
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) setNotice(e instanceof Error ? e.message : String(e));
    }
  }, [api]);

  useEffect(() => {
    if (api && !me) void refreshMe();
  }, [api, me, refreshMe]);

  if (!token || !api) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(t, m) => {
          saveToken(t);
          setToken(t);
          setMe(m);
          setNotice(null);
        }}
      />
    );
  }
  if (!me) return <p className="loading" role="status">Loading your account…</p>;

  return (
    <ApiContext.Provider value={api}>
      <Studio me={me} onSignOut={() => signOut()} refreshMe={refreshMe} />
    </ApiContext.Provider>
  );
}

function Studio({ me, onSignOut, refreshMe }: { me: Me; onSignOut(): void; refreshMe(): Promise<void> }) {
  const [tab, setTab] = useState<Route>(currentRoute);
  const [avatar, setAvatar] = useState<Avatar | null>(null);
  const [garment, setGarment] = useState<Garment | null>(null);
  const [quality, setQuality] = useState<Quality>('hd');
  const [tier, setTier] = useState<Tier>('standard');
  const [sessionId, setSessionId] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [galleryVersion, setGalleryVersion] = useState(0);
  const api = useApi();

  useEffect(() => {
    const onNav = () => setTab(currentRoute());
    window.addEventListener('hashchange', onNav);
    window.addEventListener('popstate', onNav);
    return () => {
      window.removeEventListener('hashchange', onNav);
      window.removeEventListener('popstate', onNav);
    };
  }, []);
  const goTab = (t: Route) => {
    // pushState, not location.hash: leaving /admin/dashboard changes the path too.
    window.history.pushState(null, '', urlOf(t));
    setTab(t);
  };

  const cost = qualityCost(quality);
  const ready = avatar?.status === 'ready' && !!garment;
  const start = async () => {
    if (!avatar || !garment) return;
    setStarting(true);
    setError(null);
    try {
      const { sessionId } = await api.createSession({ avatarId: avatar.id, garmentId: garment.id, quality, preferences: { tier } });
      setSessionId(sessionId);
      void refreshMe();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError('NETWORK', String(e), 0));
    } finally {
      setStarting(false);
    }
  };

  const onChanged = useCallback(() => {
    void refreshMe();
    setGalleryVersion((v) => v + 1);
  }, [refreshMe]);

  return (
    <>
      <SkipLink />
      <Header me={me} tab={tab} onTab={goTab} onSignOut={onSignOut} />
      {tab === 'studio' ? (
        <main id="main" tabIndex={-1} className="studio">
          <h1 className="sr-only">Studio</h1>
          <div className="columns">
            <AvatarPanel selected={avatar} onSelect={setAvatar} onCreditsChanged={refreshMe} />
            <GarmentPanel selected={garment} onSelect={setGarment} />
          </div>
          <section className="card panel" aria-labelledby="quality-title">
            <h2 id="quality-title"><span className="step">3</span> Quality and cost</h2>
            <QualityControls quality={quality} tier={tier} credits={me.credits} onQuality={setQuality} onTier={setTier} />
            <div className="actions">
              <button type="button" className="primary large" onClick={start} disabled={!ready || starting || me.credits < cost} data-testid="start-session">
                {starting ? 'Starting…' : `Try it on · ${cost} credits`}
              </button>
              {!ready && (
                <span className="muted small">
                  {!avatar ? 'Add or pick a photo first.' : avatar.status !== 'ready' ? 'Waiting for the 3D body…' : 'Add or pick a garment.'}
                </span>
              )}
            </div>
            <ErrorNote error={error} onDismiss={() => setError(null)} />
          </section>
        </main>
      ) : tab === 'gallery' ? (
        <div id="main">
          <Gallery onOpen={setSessionId} version={galleryVersion} />
        </div>
      ) : tab === 'catalogue' ? (
        <CataloguePage onChanged={onChanged} />
      ) : tab === 'billing' ? (
        <BillingPage key={galleryVersion} meId={me.id} />
      ) : (
        <Suspense fallback={<p className="loading" role="status">Loading the dashboard…</p>}>
          <AdminDashboard me={me} />
        </Suspense>
      )}
      {sessionId && <ProcessingModal key={sessionId} sessionId={sessionId} onClose={() => setSessionId(null)} onChanged={onChanged} />}
    </>
  );
}
