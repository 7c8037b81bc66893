/** @jsxImportSource hono/jsx */
import { type Context, type Handler, Hono } from 'hono';
import { html } from 'hono/html';
import type { Child } from 'hono/jsx';
import { readConfig } from '../config';
import { TOKEN_LIFETIME_SECONDS } from '../jwt/policy';
import { MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../limits';
import type { AppEnv } from '../request-context';
import { PAGES_SCRIPT, PAGES_STYLE } from './assets';
import { Field, FormMessages, Layout, ProviderButtons } from './components';
import { pageHeaders, safeRedirect } from './security';

// Server-rendered pages that call the JSON API from the same origin with
// /assets/pages.js. They hold no session logic of their own: everything a
// page does, a client of the API can do.

/** Longest token a page accepts from its query string; longer ones are not ours. */
const MAX_PAGE_TOKEN_LENGTH = 2048;

/** Readable text for the `?error=` a failed provider sign-in comes back with. */
const PROVIDER_ERRORS: Record<string, string> = {
  access_denied: 'Sign-in was cancelled at the provider.',
  state_mismatch: 'That sign-in expired or was started in another browser. Try again.',
  state_not_found: 'That sign-in expired or was started in another browser. Try again.',
  invalid_code: 'The provider did not confirm the sign-in. Try again.',
  unable_to_get_user_info: 'The provider did not tell us who you are. Try again.',
  email_not_found: 'The provider did not share an email address.',
  account_not_linked:
    'An account with this email already exists. Sign in with your password, then add the provider from your account.',
  account_has_password:
    'This email has an account with a password. Sign in with it (or reset it), then add the provider from your account.',
  email_not_verified_by_provider:
    'The provider has not verified this email address. Verify it there, or sign up with email and password.',
  email_not_verified: 'Verify your email address first: follow the link we sent you, then sign in again.',
};

/** The sentence for a provider error code; only the map's own entries (not `constructor`, `__proto__`). */
function providerErrorText(code: string | undefined): string {
  if (!code) return '';
  return Object.hasOwn(PROVIDER_ERRORS, code) ? (PROVIDER_ERRORS[code] as string) : 'Sign-in failed. Try again.';
}

function htmlPage(c: Context<AppEnv>, title: string, body: Child) {
  c.header('cache-control', 'no-store');
  return c.html(html`<!doctype html>${<Layout title={title}>{body}</Layout>}`);
}

function pageToken(c: Context<AppEnv>): string {
  const token = c.req.query('token') ?? '';
  return token.length <= MAX_PAGE_TOKEN_LENGTH ? token : '';
}

export const pageRoutes = new Hono<AppEnv>();

/**
 * Serves a page or page asset at `path`; every response at that path carries
 * the page security headers. Pages go onto pageRoutes only through here, so
 * none can miss its CSP. A '*' middleware cannot do it: the app mounts
 * pageRoutes at '/', where it would reach every route of the app.
 */
function page(path: string, handler: Handler<AppEnv>) {
  pageRoutes.use(path, pageHeaders);
  pageRoutes.get(path, handler);
}

page('/assets/pages.js', (c) => {
  c.header('content-type', 'text/javascript; charset=utf-8');
  c.header('cache-control', 'public, max-age=300');
  return c.body(PAGES_SCRIPT);
});

page('/assets/pages.css', (c) => {
  c.header('content-type', 'text/css; charset=utf-8');
  c.header('cache-control', 'public, max-age=300');
  return c.body(PAGES_STYLE);
});

page('/login', (c) => {
  const config = readConfig(c.env);
  const redirect = safeRedirect(c.req.query('redirect'), config.trustedOrigins);
  const providerError = providerErrorText(c.req.query('error'));
  return htmlPage(
    c,
    'Sign in',
    <>
      {providerError ? (
        <div class="form-error" role="alert">
          {providerError}
        </div>
      ) : null}
      <ProviderButtons providers={config.oauthProviders} redirect={redirect} />
      <form data-form="sign-in" data-redirect={redirect} novalidate>
        <FormMessages />
        <Field id="email" label="Email" type="email" autocomplete="email" maxLength={MAX_EMAIL_LENGTH} />
        <Field
          id="password"
          label="Password"
          type="password"
          autocomplete="current-password"
          maxLength={MAX_PASSWORD_LENGTH}
        />
        <button type="submit">Sign in</button>
      </form>
      <p class="links">
        <a href="/forgot-password">Forgot your password?</a>
        <a href={`/signup?${new URLSearchParams({ redirect })}`}>Create an account</a>
      </p>
    </>,
  );
});

page('/signup', (c) => {
  const config = readConfig(c.env);
  const redirect = safeRedirect(c.req.query('redirect'), config.trustedOrigins);
  return htmlPage(
    c,
    'Create an account',
    <>
      <ProviderButtons providers={config.oauthProviders} redirect={redirect} />
      <form data-form="sign-up" data-redirect={redirect} novalidate>
        <FormMessages />
        <Field id="name" label="Name" type="text" autocomplete="name" maxLength={MAX_NAME_LENGTH} />
        <Field id="email" label="Email" type="email" autocomplete="email" maxLength={MAX_EMAIL_LENGTH} />
        <Field
          id="password"
          label="Password"
          type="password"
          autocomplete="new-password"
          minLength={MIN_PASSWORD_LENGTH}
          maxLength={MAX_PASSWORD_LENGTH}
          hint={`At least ${MIN_PASSWORD_LENGTH} characters.`}
        />
        <button type="submit">Create account</button>
      </form>
      <p class="links">
        <a href={`/login?${new URLSearchParams({ redirect })}`}>I already have an account</a>
      </p>
    </>,
  );
});

page('/forgot-password', (c) =>
  htmlPage(
    c,
    'Reset your password',
    <>
      <p>Enter your account's email and we will send you a link to choose a new password.</p>
      <form data-form="forgot-password" novalidate>
        <FormMessages />
        <Field id="email" label="Email" type="email" autocomplete="email" maxLength={MAX_EMAIL_LENGTH} />
        <button type="submit">Send the link</button>
      </form>
      <p class="links">
        <a href="/login">Back to sign in</a>
      </p>
    </>,
  ),
);

page('/reset-password', (c) => {
  const token = pageToken(c);
  if (!token) {
    return htmlPage(
      c,
      'Choose a new password',
      <>
        <div class="form-error" role="alert">
          This link is incomplete. Open the link from the email again, or ask for a new one.
        </div>
        <p class="links">
          <a href="/forgot-password">Ask for a new link</a>
        </p>
      </>,
    );
  }
  return htmlPage(
    c,
    'Choose a new password',
    <>
      <form data-form="reset-password" data-token={token} novalidate>
        <FormMessages />
        <Field
          id="password"
          label="New password"
          type="password"
          autocomplete="new-password"
          minLength={MIN_PASSWORD_LENGTH}
          maxLength={MAX_PASSWORD_LENGTH}
          hint={`At least ${MIN_PASSWORD_LENGTH} characters.`}
        />
        <Field
          id="confirm"
          label="New password again"
          type="password"
          autocomplete="new-password"
          maxLength={MAX_PASSWORD_LENGTH}
        />
        <button type="submit">Set the new password</button>
      </form>
      <p class="links">
        <a href="/login">Back to sign in</a>
      </p>
    </>,
  );
});

page('/verify-email', (c) => {
  const token = pageToken(c);
  return htmlPage(
    c,
    'Verify your email',
    <>
      <div data-verify-email data-token={token}>
        <FormMessages />
        <p data-verify-progress>{token ? 'Checking your link…' : ''}</p>
        {token ? null : (
          <div class="form-error" role="alert">
            This link is incomplete. Open the link from the email again, or sign in to send a new one.
          </div>
        )}
      </div>
      <p class="links">
        <a href="/account">Go to your account</a>
      </p>
    </>,
  );
});

page('/account', (c) =>
  htmlPage(
    c,
    'Your account',
    <div data-account hidden>
      <FormMessages />
      <dl class="profile">
        <dt>Name</dt>
        <dd data-user-name />
        <dt>Email</dt>
        <dd>
          <span data-user-email /> <span class="badge" data-user-verified />
        </dd>
      </dl>
      <p data-unverified hidden>
        <button type="button" class="secondary" data-action="send-verification">
          Send the verification email again
        </button>
      </p>
      <h2>Token for your backend</h2>
      <p class="hint" id="token-hint">
        A JWT valid for {TOKEN_LIFETIME_SECONDS / 60} minutes, verified against{' '}
        <a href="/api/auth/jwks">our public keys</a>.
      </p>
      <p>
        <button type="button" data-action="get-token">
          Get a fresh token
        </button>
      </p>
      <div class="field" data-token-box hidden>
        <label for="token">Token</label>
        <textarea id="token" readonly rows={5} aria-describedby="token-hint" />
        <button type="button" class="secondary" data-action="copy-token">
          Copy
        </button>
      </div>
      <h2>Sessions</h2>
      <ul class="sessions" data-sessions />
      <p class="actions">
        <button type="button" class="secondary" data-action="revoke-others">
          Sign out everywhere else
        </button>{' '}
        <button type="button" data-action="sign-out">
          Sign out
        </button>
      </p>
    </div>,
  ),
);

// Where a provider sign-in without a callbackURL lands (BETTER_AUTH_URL's origin).
page('/', (c) => c.redirect('/account'));
