import { lazy, type ReactNode, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import { api, messageOf, whenSignedOut } from './api';
import { disconnectLive } from './live';
import { SignIn } from './pages/SignIn';
import { NotificationBell } from './parts/Notifications';
import { Link, match, navigate, useLocation } from './router';
import { loadSession, SessionProvider, useSession } from './session';
import type { EffectiveAgreement, Me, User } from './types';
import { Button, ErrorNote, Spinner, Toasts } from './ui';

// Each page is its own chunk, so the first load carries only the shell and the page opened.
const Home = lazy(() => import('./pages/Home'));
const Leads = lazy(() => import('./pages/Leads'));
const LeadPage = lazy(() => import('./pages/Lead'));
const AccountPage = lazy(() => import('./pages/Account'));
const Accounts = lazy(() => import('./pages/Accounts'));
const Agreement = lazy(() => import('./pages/Agreement'));
const Scoring = lazy(() => import('./pages/Scoring'));
const Import = lazy(() => import('./pages/Import'));
const Settings = lazy(() => import('./pages/Settings'));

type Loaded = { me: Me; users: User[]; agreement: EffectiveAgreement };

export function App() {
  const [state, setState] = useState<
    { status: 'loading' } | { status: 'signed-out' } | { status: 'error'; message: string } | { status: 'in'; session: Loaded }
  >({
    status: 'loading',
  });
  const load = useCallback(async () => {
    try {
      setState({ status: 'in', session: await loadSession() });
    } catch (e) {
      const status = (e as { status?: number }).status;
      setState(status === 401 ? { status: 'signed-out' } : { status: 'error', message: messageOf(e) });
    }
  }, []);
  useEffect(() => {
    whenSignedOut(() => {
      disconnectLive();
      setState({ status: 'signed-out' });
    });
    void load();
  }, [load]);

  if (state.status === 'loading') return <Spinner label="Opening Tandem" />;
  if (state.status === 'error')
    return (
      <main className="center-page">
        <ErrorNote message={`Tandem could not start: ${state.message}`} retry={() => void load()} />
      </main>
    );
  if (state.status === 'signed-out') return <SignIn onSignedIn={() => void load()} />;
  return (
    <SessionProvider initial={state.session}>
      <Shell
        onSignOut={async () => {
          await api('/api/auth/logout', { method: 'POST' }).catch(() => {});
          disconnectLive();
          navigate('/', { replace: true });
          setState({ status: 'signed-out' });
        }}
      />
      <Toasts />
    </SessionProvider>
  );
}

const NAV: { to: string; label: string; adminOnly?: boolean }[] = [
  { to: '/', label: 'Home' },
  { to: '/leads', label: 'Leads' },
  { to: '/accounts', label: 'Accounts' },
  { to: '/agreement', label: 'Agreement' },
  { to: '/scoring', label: 'Scoring' },
  { to: '/import', label: 'Import' },
  { to: '/settings', label: 'Settings' },
];

function Shell({ onSignOut }: { onSignOut: () => void }) {
  const { me } = useSession();
  const { path } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  // On a new page the phone menu closes and focus moves to the content, so keyboard and screen
  // reader users start at the page they opened rather than at the link they left.
  const first = useRef(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: path is the trigger
  useEffect(() => {
    setMenuOpen(false);
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [path]);
  const active = (to: string) => (to === '/' ? path === '/' : path === to || path.startsWith(`${to}/`));
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand" aria-label="Tandem home">
          <span className="brand-mark" aria-hidden="true" />
          Tandem
        </Link>
        <span className="workspace-name">{me.workspace.name}</span>
        <button type="button" className="menu-toggle btn btn-ghost" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen((o) => !o)}>
          Menu
        </button>
        <div className="topbar-user">
          <NotificationBell />
          <span>
            {me.user.name} <span className={`team-dot team-${me.user.team}`}>{teamLine(me.user)}</span>
          </span>
          <Button kind="ghost" onClick={onSignOut}>
            Sign out
          </Button>
        </div>
      </header>
      <nav id="nav" className={`sidenav ${menuOpen ? 'open' : ''}`} aria-label="Main">
        <ul>
          {NAV.map((n) => (
            <li key={n.to}>
              <Link to={n.to} aria-current={active(n.to) ? 'page' : undefined}>
                {n.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        <Suspense fallback={<Spinner />}>
          <Routes />
        </Suspense>
      </main>
    </div>
  );
}

function teamLine(u: User): string {
  const team = u.team === 'marketing' ? 'Marketing' : 'Sales';
  return u.level === 'lead' ? `${team} lead` : team;
}

function Routes(): ReactNode {
  const { path } = useLocation();
  if (path === '/') return <Home />;
  if (path === '/leads') return <Leads />;
  const lead = match('/leads/:id', path);
  if (lead) return <LeadPage id={lead.id as string} />;
  if (path === '/accounts') return <Accounts />;
  const account = match('/accounts/:id', path);
  if (account) return <AccountPage id={account.id as string} />;
  if (path === '/agreement') return <Agreement />;
  if (path === '/scoring') return <Scoring />;
  if (path === '/import') return <Import />;
  if (path === '/settings') return <Settings />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no page at <code>{path}</code>. <Link to="/">Go home</Link>.
      </p>
    </section>
  );
}
