import { lazy, Suspense, useEffect, useState } from 'react';
import { Link, Navigate, Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import { api, session } from './api.ts';
import { AuditPage } from './pages/audit-page.tsx';
import { DatasetPage } from './pages/dataset-page.tsx';
import { SearchPage } from './pages/search-page.tsx';
import { SignInCallback, SignInPage } from './pages/sign-in-page.tsx';
import { CALLBACK_PATH } from './oidc.ts';

// The workspace brings the SQL editor: loaded when first opened, not with every page.
const InsightsPage = lazy(() => import('./pages/insights-page.tsx').then((m) => ({ default: m.InsightsPage })));
const PoliciesPage = lazy(() => import('./pages/policies-page.tsx').then((m) => ({ default: m.PoliciesPage })));
const WorkspacePage = lazy(() => import('./pages/workspace-page.tsx').then((m) => ({ default: m.WorkspacePage })));

interface Me {
  readonly user: string;
  readonly groups: readonly string[];
  readonly admin: boolean;
}

/** The frame of every page: who is signed in, the way home, and the page itself. */
export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checked, setChecked] = useState(false);
  const navigate = useNavigate();
  const location = useLocation();

  const refresh = (): void => {
    if (session.token() === null) {
      setMe(null);
      setChecked(true);
      return;
    }
    api<Me>('/v1/me')
      .then(setMe)
      .catch(() => {
        session.signOut();
        setMe(null);
      })
      .finally(() => setChecked(true));
  };
  useEffect(refresh, []);

  if (!checked) return <p className="loading">Loading…</p>;
  if (me === null) {
    return (
      <Shell user={null} onSignOut={() => undefined}>
        {/* The identity provider's redirect back arrives signed out: complete the sign-in there. */}
        {location.pathname === CALLBACK_PATH ? <SignInCallback onSignedIn={refresh} /> : <SignInPage onSignedIn={refresh} returnTo={location.pathname + location.search} />}
      </Shell>
    );
  }
  const signOut = (): void => {
    session.signOut();
    setMe(null);
    void navigate('/');
  };
  return (
    <Shell user={me.user} admin={me.admin} onSignOut={signOut}>
      <Routes>
        <Route path="/" element={<Navigate to="/search" replace />} />
        <Route path="/search" element={<SearchPage admin={me.admin} />} />
        <Route path="/datasets/:name" element={<DatasetPage user={me.user} admin={me.admin} />} />
        <Route path="/audit" element={<AuditPage canVerify={me.admin || me.groups.includes('compliance')} />} />
        <Route
          path="/policies"
          element={
            <Suspense fallback={<p className="loading">Loading policies…</p>}>
              <PoliciesPage admin={me.admin} />
            </Suspense>
          }
        />
        <Route
          path="/insights"
          element={
            <Suspense fallback={<p className="loading">Loading insights…</p>}>
              <InsightsPage />
            </Suspense>
          }
        />
        <Route
          path="/workspace"
          element={
            <Suspense fallback={<p className="loading">Loading the workspace…</p>}>
              <WorkspacePage user={me.user} />
            </Suspense>
          }
        />
        <Route path="*" element={<NotFound />} />
      </Routes>
    </Shell>
  );
}

function Shell(props: { user: string | null; admin?: boolean; onSignOut: () => void; children: React.ReactNode }) {
  return (
    <>
      <header className="top">
        <Link to="/search" className="brand">
          Veil
        </Link>
        <nav aria-label="Main">
          {props.user !== null && <Link to="/search">Catalog</Link>}
          {props.user !== null && <Link to="/workspace">Workspace</Link>}
          {props.user !== null && <Link to="/audit">Audit</Link>}
          {props.user !== null && <Link to="/insights">Insights</Link>}
          {props.user !== null && props.admin && <Link to="/policies">Policies</Link>}
        </nav>
        {props.user !== null && (
          <div className="who">
            <span>
              Signed in as <strong>{props.user}</strong>
            </span>
            <button type="button" onClick={props.onSignOut}>
              Sign out
            </button>
          </div>
        )}
      </header>
      <main>{props.children}</main>
    </>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        This page does not exist. <Link to="/search">Search the catalog</Link>.
      </p>
    </section>
  );
}
