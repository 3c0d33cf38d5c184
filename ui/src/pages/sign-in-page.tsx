import { useEffect, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { api, explain, session } from '../api.ts';

interface SignInOptions {
  readonly demo_users: readonly string[];
  readonly identity_providers: readonly { readonly name: string; readonly issuer: string }[];
}

/**
 * Sign in with a token (from `veil token issue`, an API token, or an identity provider's JWT), or,
 * while the demo is served, as one of its users. The token stays in this tab's session storage.
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
      navigate(props.returnTo === '/' ? '/search' : props.returnTo);
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

  return (
    <section className="sign-in">
      <h1>Sign in to Veil</h1>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
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
