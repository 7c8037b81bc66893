/** @jsxImportSource hono/jsx */
import { type Context, type Handler, Hono } from 'hono';
import { html } from 'hono/html';
import type { Child } from 'hono/jsx';
import { AUDIT_EVENT_TYPES } from '../audit/events';
import { readConfig } from '../config';
import { TOKEN_LIFETIME_SECONDS } from '../jwt/policy';
import {
  MAX_BAN_REASON_LENGTH,
  MAX_EMAIL_LENGTH,
  MAX_ID_LENGTH,
  MAX_NAME_LENGTH,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
} from '../limits';
import { OAUTH_PROVIDERS } from '../oauth/providers';
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
  BANNED_USER: 'This account is banned. Contact support if you think this is a mistake.',
};

/** The sign-in methods' names, for the event lists' sentences ("Signed in with GitHub"). */
const METHOD_NAMES = JSON.stringify(
  Object.fromEntries([['email', 'email and password'], ...OAUTH_PROVIDERS.map(({ id, name }) => [id, name])]),
);

/** The sentence for a provider error code; only the map's own entries (not `constructor`, `__proto__`). */
function providerErrorText(code: string | undefined): string {
  if (!code) return '';
  return Object.hasOwn(PROVIDER_ERRORS, code) ? (PROVIDER_ERRORS[code] as string) : 'Sign-in failed. Try again.';
}

function htmlPage(c: Context<AppEnv>, title: string, body: Child, options: { wide?: boolean } = {}) {
  c.header('cache-control', 'no-store');
  return c.html(
    html`<!doctype html>${(
      <Layout title={title} wide={options.wide}>
        {body}
      </Layout>
    )}`,
  );
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
      <h2 id="activity-heading">Recent security activity</h2>
      <p class="hint">Sign-ins, password changes and other changes to your account, newest first.</p>
      <ol class="events" data-events data-method-names={METHOD_NAMES} aria-labelledby="activity-heading" />
      <p>
        <button type="button" class="secondary" data-more-events hidden>
          Show older activity
        </button>
      </p>
      <p data-admin-link hidden>
        <a href="/admin">Admin: users and the audit log</a>
      </p>
    </div>,
  ),
);

/** Seconds of each ban length the admin page offers; 0 is a ban without an end. */
const BAN_LENGTHS: Array<[number, string]> = [
  [0, 'No end'],
  [60 * 60, '1 hour'],
  [24 * 60 * 60, '1 day'],
  [7 * 24 * 60 * 60, '7 days'],
  [30 * 24 * 60 * 60, '30 days'],
];

// For admins: the API behind it refuses everyone else, and the script shows
// them only a message (src/pages/client/admin.ts).
page('/admin', (c) =>
  htmlPage(
    c,
    'Admin',
    <div data-admin hidden>
      <FormMessages />
      <section aria-labelledby="users-heading">
        <h2 id="users-heading">Users</h2>
        <form id="admin-search" novalidate>
          <div class="inline-fields">
            <div class="field">
              <label for="search">Search</label>
              <input id="search" name="search" type="search" autocomplete="off" maxlength={MAX_EMAIL_LENGTH} />
            </div>
            <div class="field">
              <label for="search-field">In</label>
              <select id="search-field" name="field">
                <option value="email">Email</option>
                <option value="name">Name</option>
              </select>
            </div>
          </div>
          <button type="submit">Search</button>
        </form>
        <p class="hint" data-user-count aria-live="polite" />
        <ul class="user-list" data-users />
        <p class="actions">
          <button type="button" class="secondary" data-action="users-previous" hidden>
            Previous
          </button>
          <button type="button" class="secondary" data-action="users-next" hidden>
            Next
          </button>
        </p>
      </section>
      <section class="panel" data-user-panel hidden aria-labelledby="user-heading">
        <h2 id="user-heading" tabindex={-1} data-user-title>
          User
        </h2>
        <FormMessages />
        <dl class="profile">
          <dt>Email</dt>
          <dd data-user-email />
          <dt>Id</dt>
          <dd data-user-id />
          <dt>Role</dt>
          <dd data-user-role />
          <dt>Status</dt>
          <dd data-user-ban />
        </dl>
        <h3>Signs in with</h3>
        <ul data-user-accounts />
        <h3>Sessions</h3>
        <ul class="sessions" data-user-sessions />
        <p class="actions">
          <button type="button" class="secondary" data-action="revoke-all">
            Sign out every session
          </button>
          <button type="button" class="secondary" data-action="toggle-role" />
          <button type="button" class="secondary" data-action="user-events">
            Show this user's events
          </button>
        </p>
        <h3>Ban</h3>
        <form id="admin-ban" novalidate>
          <div class="field">
            <label for="ban-reason">Reason (for admins; optional)</label>
            <input id="ban-reason" name="reason" type="text" autocomplete="off" maxlength={MAX_BAN_REASON_LENGTH} />
          </div>
          <div class="field">
            <label for="ban-duration">For</label>
            <select id="ban-duration" name="duration">
              {BAN_LENGTHS.map(([seconds, label]) => (
                <option value={String(seconds)}>{label}</option>
              ))}
            </select>
          </div>
          <button type="submit">Ban and sign out everywhere</button>
        </form>
        <p data-unban hidden>
          <button type="button" data-action="unban">
            Lift the ban
          </button>
        </p>
      </section>
      <section aria-labelledby="log-heading">
        <h2 id="log-heading" tabindex={-1}>
          Audit log
        </h2>
        <form id="admin-log" novalidate>
          <div class="inline-fields">
            <div class="field">
              <label for="log-user">User id</label>
              <input id="log-user" name="userId" type="text" autocomplete="off" maxlength={MAX_ID_LENGTH} />
            </div>
            <div class="field">
              <label for="log-type">Event</label>
              <select id="log-type" name="type">
                <option value="">Any</option>
                {AUDIT_EVENT_TYPES.map((type) => (
                  <option value={type}>{type}</option>
                ))}
              </select>
            </div>
          </div>
          <button type="submit">Show events</button>
        </form>
        <ol class="events" data-log data-method-names={METHOD_NAMES} aria-labelledby="log-heading" />
        <p>
          <button type="button" class="secondary" data-more-log hidden>
            Show older events
          </button>
        </p>
      </section>
    </div>,
    { wide: true },
  ),
);

// Where a provider sign-in without a callbackURL lands (BETTER_AUTH_URL's origin).
page('/', (c) => c.redirect('/account'));
