import { type FormEvent, useEffect, useState } from 'react';
import { ApiError, api, messageOf } from '../api';
import { useTitle } from '../router';
import { Button, Field } from '../ui';

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  useTitle('Sign in');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [demo, setDemo] = useState<{ workspace: string; password: string; people: { email: string; role: string }[] } | null>(null);
  useEffect(() => {
    api<{ workspace: string; password: string; people: { email: string; role: string }[] }>('/api/auth/demo').then(setDemo, () => setDemo(null));
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      await api('/api/auth/login', { body: { email, password } });
      onSignedIn();
    } catch (err) {
      if (err instanceof ApiError) setError(err);
      setMessage(err instanceof ApiError && err.status === 401 ? 'That email and password do not match an account.' : messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="signin">
      <div className="signin-card">
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true" /> Tandem
        </div>
        <h1>Sign in</h1>
        <p className="muted">One lead lifecycle for marketing and sales.</p>
        <form onSubmit={submit} noValidate>
          <Field label="Email" error={error?.problemFor('email')}>
            {(p) => <input {...p} type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />}
          </Field>
          <Field label="Password" error={error?.problemFor('password')}>
            {(p) => <input {...p} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />}
          </Field>
          {message ? (
            <p className="error-text" role="alert">
              {message}
            </p>
          ) : null}
          <Button kind="primary" type="submit" busy={busy} className="wide">
            Sign in
          </Button>
        </form>
        {demo ? (
          <section className="demo-hint" aria-labelledby="demo-title">
            <h2 id="demo-title">Trying the demo?</h2>
            <p className="hint">
              Sign in to {demo.workspace} as one of these people (password <code>{demo.password}</code>):
            </p>
            <ul className="list">
              {demo.people.map((p) => (
                <li key={p.email} className="demo-person">
                  <span>
                    <code>{p.email}</code> <span className="muted">{p.role}</span>
                  </span>
                  <Button
                    kind="ghost"
                    aria-label={`Use ${p.email}`}
                    onClick={() => {
                      setEmail(p.email);
                      setPassword(demo.password);
                    }}
                  >
                    Use
                  </Button>
                </li>
              ))}
            </ul>
          </section>
        ) : null}
      </div>
    </main>
  );
}
