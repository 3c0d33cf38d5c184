import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate } from 'react-router-dom';
import { api, ApiError, explain, session } from '../api.ts';
import { CALLBACK_PATH, completeSignIn, hasBrowserSignIn, SignInError, startSignIn, type BrowserSignInProvider } from '../oidc.ts';

interface SignInOptions {
  readonly demo_users: readonly string[];
  readonly identity_providers: readonly { readonly name: string; readonly issuer: string; readonly client_id?: string }[];
}

/**
 * Sign in through an identity provider (when Veil is configured for browser sign-in), with a token
 * (from `veil token issue`, an API token, or an identity provider's JWT), or, while the demo is
 * served, as one of its users. The token stays in this tab's session storage.
 */
export function SignInPage(props: { onSignedIn: () => void; returnTo: string }) {
  const [options, setOptions] = useState<SignInOptions | null>(null);
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const navigate = useNavigate();

  useEffect(() => {
    api<SignInOptions>('/v1/sign-in/options')
      .then(setOptions)
      .catch((e: unknown) => setError(explain(e)));
  }, []);

  const finish = async (candidate: string): Promise<void> => {
    session.signIn(candidate);
    try {
      await api('/v1/me');
      props.onSignedIn();
      void navigate(props.returnTo === '/' ? '/search' : props.returnTo);
    } catch (e) {
      session.signOut();
      setError(explain(e));
    }
  };

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    setError(null);
    void finish(token.trim());
  };

  const demo = async (user: string): Promise<void> => {
    setError(null);
    try {
      const answer = await api<{ token: string }>('/v1/sign-in/demo', { method: 'POST', body: { user } });
      await finish(answer.token);
    } catch (e) {
      setError(explain(e));
    }
  };

  const withProvider = (provider: BrowserSignInProvider): void => {
    setError(null);
    startSignIn(provider, props.returnTo).catch((e: unknown) => setError(e instanceof SignInError ? e.message : `Signing in with ${provider.name} could not start.`));
  };

  const providers = options?.identity_providers.filter(hasBrowserSignIn) ?? [];
  return (
    <section className="sign-in">
      <h1>Sign in to Veil</h1>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {providers.length > 0 && (
        <div className="identity-providers">
          <h2>With your organization’s account</h2>
          <ul>
            {providers.map((provider) => (
              <li key={provider.issuer}>
                <button type="button" className="primary" onClick={() => withProvider(provider)}>
                  Sign in with {provider.name}
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
      {options !== null && options.demo_users.length > 0 && (
        <div className="demo-users">
          <h2>Demo users</h2>
          <ul>
            {options.demo_users.map((user) => (
              <li key={user}>
                <button type="button" onClick={() => void demo(user)}>
                  Sign in as {user}
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
      <form onSubmit={submit}>
        <h2>With a token</h2>
        <label htmlFor="token">Token</label>
        <textarea id="token" value={token} onChange={(e) => setToken(e.target.value)} rows={3} autoComplete="off" spellCheck={false} />
        <button type="submit" disabled={token.trim() === ''}>
          Sign in
        </button>
      </form>
    </section>
  );
}

/**
 * Where the identity provider sends the browser back (CALLBACK_PATH), shown while signed out:
 * takes the code and state out of the address bar at once, completes the sign-in (oidc.ts), checks
 * that Veil accepts the ID token, and goes to the page the sign-in started from.
 */
export function SignInCallback(props: { onSignedIn: () => void }) {
  // The router's location keeps the query the page was opened with, even after replaceState below.
  const { search } = useLocation();
  const [error, setError] = useState<string | null>(null);
  const navigate = useNavigate();

  useEffect(() => {
    // No code or state stays in the address bar, nor in this history entry.
    window.history.replaceState(window.history.state, '', CALLBACK_PATH);
    let active = true;
    completeSignIn(search)
      .then(async ({ token, returnTo }) => {
        if (!active) return;
        session.signIn(token);
        try {
          await api('/v1/me');
        } catch (e) {
          session.signOut();
          throw e instanceof ApiError && (e.code === 'INVALID_TOKEN' || e.code === 'UNAUTHENTICATED') ? new SignInError(`Veil did not accept the sign-in: ${e.message}.`) : e;
        }
        void navigate(returnTo, { replace: true });
        props.onSignedIn();
      })
      .catch((e: unknown) => {
        if (active) setError(e instanceof SignInError ? e.message : explain(e));
      });
    return () => {
      active = false;
    };
    // The callback's query string is the whole input: the page's props and navigate do not change it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [search]);

  return (
    <section className="sign-in">
      <h1>Signing in</h1>
      {error === null ? (
        <p className="loading" role="status">
          Completing the sign-in…
        </p>
      ) : (
        <>
          <p role="alert" className="error">
            {error}
          </p>
          <p>
            <Link to="/">Sign in again</Link>
          </p>
        </>
      )}
    </section>
  );
}
