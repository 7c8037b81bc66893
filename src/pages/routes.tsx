/** @jsxImportSource hono/jsx */
import { type Context, type Handler, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { html } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AUDIT_EVENT_TYPES } from '../audit/events';
import { readConfig } from '../config';
import { TOKEN_LIFETIME_SECONDS } from '../jwt/policy';
import { MAX_BAN_REASON_LENGTH, MAX_BODY_BYTES, MAX_EMAIL_LENGTH, MAX_ID_LENGTH } from '../limits';
import { PASSWORD_RESET_LINK_TTL_SECONDS } from '../mail/mailer';
import { isTotpCode } from '../mfa';
import { OAUTH_PROVIDERS } from '../oauth/providers';
import { sessionCookiesIn } from '../rate-limit';
import type { AppEnv } from '../request-context';
import { type ApiAnswer, callAuthApi, copyCookies } from './api-call';
import { PAGES_SCRIPT, PAGES_STYLE } from './assets';
import { brandStyle, faviconSvg } from './brand';
import { FormMessages, Layout } from './components';
import {
  ContinueAs,
  ForgotForm,
  ForgotSent,
  LinkProblem,
  ResetForm,
  SignInForm,
  SignUpForm,
  SignUpSent,
} from './forms';
import {
  ChangePasswordSection,
  PasskeySignIn,
  PasskeysSection,
  TwoFactorForm,
  TwoFactorSection,
  TwoFactorTemplate,
} from './mfa';
import { pageHeaders, safeRedirect } from './security';
import { errorView, hasKey, STRINGS, type StringKey, t } from './strings';

// Server-rendered pages that call the JSON API from the same origin with
// /assets/pages.js. They hold no session logic of their own: everything a
// page does, a client of the API can do. Their forms also work without the
// script: each posts to its own page path, whose handler sends it on to the
// API route through the app itself (src/pages/api-call.ts) and answers with a
// 303 or the page again with the API's errors beside their fields.

/** Longest token a page accepts from its query string; longer ones are not ours. */
const MAX_PAGE_TOKEN_LENGTH = 2048;

/** The sign-in methods' names, for the event lists' sentences ("Signed in with GitHub"). */
const METHOD_NAMES = JSON.stringify(
  Object.fromEntries([
    ['email', 'email and password'],
    ['email+totp', 'password and authenticator code'],
    ['email+backup_code', 'password and backup code'],
    ['passkey', 'a passkey'],
    ...OAUTH_PROVIDERS.map(({ id, name }) => [id, name]),
  ]),
);

/** The sentence for the `?error=` a failed provider sign-in comes back with; only the catalog's own entries. */
function providerErrorText(code: string | undefined): string {
  if (!code) return '';
  const key = `provider_${code}`;
  return hasKey(STRINGS, key) ? t(key as StringKey) : t('provider_other');
}

function htmlPage(
  c: Context<AppEnv>,
  title: string,
  body: Child,
  options: { wide?: boolean; status?: ContentfulStatusCode } = {},
) {
  c.header('cache-control', 'no-store');
  return c.html(
    html`<!doctype html>${(
      <Layout brand={readConfig(c.env).brand} title={title} wide={options.wide}>
        {body}
      </Layout>
    )}`,
    options.status ?? 200,
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
function page(path: string, handler: Handler<AppEnv>, post?: Handler<AppEnv>) {
  pageRoutes.use(path, pageHeaders);
  pageRoutes.get(path, handler);
  if (post) pageRoutes.post(path, formBodyLimit, post);
}

/** A form post's body: the API's own limit, answered as a page. */
const formBodyLimit = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: (c) => htmlPage(c, t('GENERIC'), <FormMessages error={t('PAYLOAD_TOO_LARGE')} />, { status: 413 }),
});

/**
 * A form post's fields; files and repeated names are not ours. A body that
 * does not parse (a multipart post without its boundary) has no fields: the
 * API then says which are missing, as for an empty form, instead of a 500.
 */
async function formFields(c: Context<AppEnv>): Promise<Record<string, string>> {
  const body = await c.req.parseBody().catch(() => ({}));
  return Object.fromEntries(
    Object.entries(body).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/** After a successful form post: 303 to `location`, with the cookies the API set. */
function seeOther(location: string, answer?: ApiAnswer): Response {
  const headers = new Headers({ location, 'cache-control': 'no-store' });
  if (answer) copyCookies(answer, headers);
  return new Response(null, { status: 303, headers });
}

/** The status of a page that shows an API error: the API's own (a 4xx, or 503 when the database is down). */
function errorStatus(c: Context<AppEnv>, answer: ApiAnswer): ContentfulStatusCode {
  const retryAfter = answer.headers.get('retry-after');
  if (retryAfter) c.header('retry-after', retryAfter);
  return (answer.status >= 400 ? answer.status : 500) as ContentfulStatusCode;
}

const assetHeaders = (c: Context<AppEnv>, type: string) => {
  c.header('content-type', type);
  c.header('cache-control', 'public, max-age=300');
};

page('/assets/pages.js', (c) => {
  assetHeaders(c, 'text/javascript; charset=utf-8');
  return c.body(PAGES_SCRIPT);
});

page('/assets/pages.css', (c) => {
  assetHeaders(c, 'text/css; charset=utf-8');
  return c.body(PAGES_STYLE);
});

page('/assets/brand.css', (c) => {
  assetHeaders(c, 'text/css; charset=utf-8');
  return c.body(brandStyle(readConfig(c.env).brand));
});

// Browsers ask for /favicon.ico unless a page names its icon; ours do, and
// both answer the same picture.
for (const path of ['/favicon.svg', '/favicon.ico']) {
  page(path, (c) => {
    assetHeaders(c, 'image/svg+xml');
    return c.body(faviconSvg(readConfig(c.env).brand));
  });
}

/** The notices /login shows after a redirect: `?reset=done`, `?signed-out=1`. */
function loginNotice(c: Context<AppEnv>): string | undefined {
  if (c.req.query('reset') === 'done') return t('resetDone');
  if (c.req.query('signed-out') === '1') return t('signedOut');
  return undefined;
}

interface SessionAnswer {
  user?: { name?: string; email?: string };
}

page(
  '/login',
  async (c) => {
    const config = readConfig(c.env);
    const redirect = safeRedirect(c.req.query('redirect'), config.trustedOrigins);
    const title = t('signInTitle', { app: config.brand.appName });
    // A browser with a session is offered to go on with it: asked only when
    // it sends a session cookie, so a first visit costs no database read.
    if (c.req.query('switch') !== '1' && sessionCookiesIn(c.req.header('cookie')).length === 1) {
      // A read: opening a page must not extend the session (nor write at all).
      const answer = await callAuthApi(c, 'GET', '/get-session?disableRefresh=true');
      const user = (answer.ok ? (answer.data as SessionAnswer | null) : null)?.user;
      if (user?.email) {
        return htmlPage(c, title, <ContinueAs name={user.name || user.email} email={user.email} redirect={redirect} />);
      }
    }
    return htmlPage(
      c,
      title,
      <>
        <SignInForm
          config={config}
          redirect={redirect}
          state={{ values: { email: c.req.query('email')?.slice(0, MAX_EMAIL_LENGTH) ?? '' } }}
          providerError={providerErrorText(c.req.query('error'))}
          notice={loginNotice(c)}
        />
        <TwoFactorTemplate redirect={redirect} />
        <PasskeySignIn redirect={redirect} />
      </>,
    );
  },
  async (c) => {
    const config = readConfig(c.env);
    const redirect = safeRedirect(c.req.query('redirect'), config.trustedOrigins);
    const fields = await formFields(c);
    // The code step's post (TwoFactorForm): six digits are a TOTP code,
    // anything else a backup code. Without a pending sign-in the API answers
    // INVALID_TWO_FACTOR_COOKIE, shown with a way back to the password.
    if (fields.intent === 'code') {
      const code = (fields.code ?? '').trim();
      const path = isTotpCode(code) ? '/two-factor/verify-totp' : '/two-factor/verify-backup-code';
      const answer = await callAuthApi(c, 'POST', path, { code });
      if (answer.ok) return seeOther(redirect, answer);
      return withCookies(
        answer,
        htmlPage(
          c,
          t('signInTitle', { app: config.brand.appName }),
          <TwoFactorForm redirect={redirect} state={{ error: errorView(answer.data, answer.retryAfter) }} />,
          { status: errorStatus(c, answer) },
        ),
      );
    }
    const answer = await callAuthApi(c, 'POST', '/sign-in/email', {
      email: fields.email ?? '',
      password: fields.password ?? '',
    });
    // Two-factor is on: no session yet. The code step, with the pending
    // sign-in's cookie the API set, posts back to /login (intent=code).
    if (answer.ok && answer.data?.twoFactorRedirect) {
      return withCookies(
        answer,
        htmlPage(c, t('signInTitle', { app: config.brand.appName }), <TwoFactorForm redirect={redirect} state={{}} />),
      );
    }
    if (answer.ok) return seeOther(redirect, answer);
    return htmlPage(
      c,
      t('signInTitle', { app: config.brand.appName }),
      <>
        <SignInForm
          config={config}
          redirect={redirect}
          state={{ values: { email: fields.email ?? '' }, error: errorView(answer.data, answer.retryAfter) }}
        />
        <TwoFactorTemplate redirect={redirect} />
        <PasskeySignIn redirect={redirect} />
      </>,
      { status: errorStatus(c, answer) },
    );
  },
);

/** A page answer carrying the cookies the API set (the pending sign-in's, or its expiry). */
async function withCookies(answer: ApiAnswer, page: Response | Promise<Response>): Promise<Response> {
  const response = await page;
  copyCookies(answer, response.headers);
  return response;
}

page(
  '/signup',
  (c) => {
    const config = readConfig(c.env);
    const redirect = safeRedirect(c.req.query('redirect'), config.trustedOrigins);
    return htmlPage(
      c,
      t('signUpTitle', { app: config.brand.appName }),
      <SignUpForm config={config} redirect={redirect} state={{}} />,
    );
  },
  async (c) => {
    const config = readConfig(c.env);
    const redirect = safeRedirect(c.req.query('redirect'), config.trustedOrigins);
    const title = t('signUpTitle', { app: config.brand.appName });
    const fields = await formFields(c);
    const email = fields.email ?? '';
    // "Send the link again", from the page shown after a sign-up that waits for the email.
    if (fields.intent === 'resend') {
      const answer = await callAuthApi(c, 'POST', '/send-verification-email', { email });
      if (answer.ok) return htmlPage(c, title, <SignUpSent email={email} status={t('resendSent', { email })} />);
      const error = errorView(answer.data, answer.retryAfter);
      return htmlPage(c, title, <SignUpSent email={email} state={{ error }} />, { status: errorStatus(c, answer) });
    }
    const answer = await callAuthApi(c, 'POST', '/sign-up/email', {
      name: fields.name ?? '',
      email,
      password: fields.password ?? '',
    });
    if (answer.ok) {
      // With REQUIRE_EMAIL_VERIFICATION there is no session until the link is opened.
      if (answer.data?.token) return seeOther(redirect, answer);
      return htmlPage(c, title, <SignUpSent email={email} />);
    }
    const state = { values: { name: fields.name ?? '', email }, error: errorView(answer.data, answer.retryAfter) };
    return htmlPage(c, title, <SignUpForm config={config} redirect={redirect} state={state} />, {
      status: errorStatus(c, answer),
    });
  },
);

page(
  '/forgot-password',
  (c) =>
    htmlPage(
      c,
      t('forgotTitle'),
      <ForgotForm
        state={{ values: { email: c.req.query('email')?.slice(0, MAX_EMAIL_LENGTH) ?? '' } }}
        linkMinutes={PASSWORD_RESET_LINK_TTL_SECONDS / 60}
      />,
    ),
  async (c) => {
    const fields = await formFields(c);
    const email = fields.email ?? '';
    const answer = await callAuthApi(c, 'POST', '/request-password-reset', { email });
    if (answer.ok) {
      return htmlPage(
        c,
        t('checkEmailTitle'),
        <ForgotSent email={email} minutes={PASSWORD_RESET_LINK_TTL_SECONDS / 60} />,
      );
    }
    const state = { values: { email }, error: errorView(answer.data, answer.retryAfter) };
    return htmlPage(
      c,
      t('forgotTitle'),
      <ForgotForm state={state} linkMinutes={PASSWORD_RESET_LINK_TTL_SECONDS / 60} />,
      { status: errorStatus(c, answer) },
    );
  },
);

page(
  '/reset-password',
  (c) => {
    const token = pageToken(c);
    if (!token) return htmlPage(c, t('resetTitle'), <LinkProblem text={t('linkIncomplete')} action="new-link" />);
    return htmlPage(c, t('resetTitle'), <ResetForm token={token} state={{}} />);
  },
  async (c) => {
    const fields = await formFields(c);
    const token = (fields.token ?? '').slice(0, MAX_PAGE_TOKEN_LENGTH);
    const password = fields.password ?? '';
    if (password && password !== fields.confirm) {
      const state = { error: { field: 'confirm', text: t('passwordsDiffer') } };
      return htmlPage(c, t('resetTitle'), <ResetForm token={token} state={state} />, { status: 400 });
    }
    const answer = await callAuthApi(c, 'POST', '/reset-password', { token, newPassword: password });
    if (answer.ok) return seeOther('/login?reset=done', answer);
    const state = { error: errorView(answer.data, answer.retryAfter) };
    return htmlPage(c, t('resetTitle'), <ResetForm token={token} state={state} />, {
      status: errorStatus(c, answer),
    });
  },
);

page('/verify-email', (c) => {
  const token = pageToken(c);
  return htmlPage(
    c,
    t('verifyTitle'),
    <div data-verify-email data-token={token}>
      <FormMessages />
      <p data-verify-progress>{token ? t('verifyChecking') : ''}</p>
      {token ? (
        <p>
          <a class="button block" href="/account" data-verify-continue hidden>
            {t('continueButton')}
          </a>
        </p>
      ) : (
        <LinkProblem text={t('verifyLinkIncomplete')} action="account" />
      )}
    </div>,
  );
});

page('/account', (c) => {
  const config = readConfig(c.env);
  return htmlPage(
    c,
    t('accountTitle'),
    <>
      <div class="skeleton" data-account-loading aria-busy="true">
        <p class="hint" role="status">
          {t('accountLoading')}
        </p>
        <span class="skeleton-line" />
        <span class="skeleton-line short" />
        <span class="skeleton-line" />
        <noscript>
          <p class="form-error">{t('accountNoScript')}</p>
        </noscript>
      </div>
      <div data-account hidden>
        <FormMessages />
        <dl class="profile">
          <dt>{t('profileName')}</dt>
          <dd data-user-name />
          <dt>{t('profileEmail')}</dt>
          <dd>
            <span data-user-email /> <span class="badge" data-user-verified />
          </dd>
        </dl>
        <div class="notice" data-unverified hidden>
          <p data-unverified-text />
          <p>
            <button type="button" class="secondary" data-action="send-verification" data-busy-label={t('resendBusy')}>
              {t('resendButton')}
            </button>
          </p>
        </div>
        <h2 id="sessions-heading">{t('sessionsHeading')}</h2>
        <ul class="sessions" data-sessions aria-labelledby="sessions-heading" />
        <p class="actions">
          <button type="button" class="secondary" data-action="revoke-others" data-busy-label={t('revokeOthersBusy')}>
            {t('revokeOthers')}
          </button>
          <button type="button" class="secondary" data-action="sign-out" data-busy-label={t('signOutBusy')}>
            {t('signOut')}
          </button>
        </p>
        {config.showTokenTool ? (
          <section aria-labelledby="token-heading">
            <h2 id="token-heading">{t('tokenHeading')}</h2>
            <p class="hint" id="token-hint">
              {t('tokenHint', { minutes: TOKEN_LIFETIME_SECONDS / 60 })}
            </p>
            <p class="hint">
              <a href="/api/auth/jwks">{t('tokenKeysLink')}</a>
            </p>
            <p>
              <button type="button" class="secondary" data-action="get-token" data-busy-label={t('tokenBusy')}>
                {t('tokenButton')}
              </button>
            </p>
            <div class="field" data-token-box hidden>
              <label for="token">{t('tokenLabel')}</label>
              <textarea id="token" readonly rows={5} aria-describedby="token-hint" />
              <p class="actions">
                <button type="button" class="secondary" data-action="copy-token">
                  {t('copyButton')}
                </button>
                <span class="copied" role="status" aria-live="polite" data-copied />
              </p>
            </div>
          </section>
        ) : null}
        <PasskeysSection />
        <TwoFactorSection />
        <ChangePasswordSection />
        <h2 id="activity-heading">{t('activityHeading')}</h2>
        <p class="hint">{t('activityHint')}</p>
        <ol class="events" data-events data-method-names={METHOD_NAMES} aria-labelledby="activity-heading" />
        <p>
          <button type="button" class="secondary" data-more-events hidden>
            {t('activityMore')}
          </button>
        </p>
        <p data-admin-link hidden>
          <a href="/admin">{t('adminLink')}</a>
        </p>
      </div>
    </>,
  );
});

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
    t('adminTitle'),
    <div data-admin hidden>
      <FormMessages />
      <section aria-labelledby="users-heading">
        <h2 id="users-heading">Users</h2>
        <form id="admin-search" method="post" novalidate>
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
        <form id="admin-ban" method="post" novalidate>
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
        <form id="admin-log" method="post" novalidate>
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

// Password managers send people here to change a password (W3C's
// "A Well-Known URL for Changing Passwords"); the form is on the account page.
page('/.well-known/change-password', (c) => c.redirect('/account', 302));

// Where a provider sign-in without a callbackURL lands (BETTER_AUTH_URL's origin).
page('/', (c) => c.redirect('/account'));
