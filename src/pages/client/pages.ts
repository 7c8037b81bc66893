// The pages' one script, served as /assets/pages.js (the CSP allows no inline
// code), bundled from this file and the modules it imports. No framework.
// It only enhances: every form also works without it (it posts to its own
// page, src/pages/routes.tsx). When loaded, it checks fields in the browser,
// sends the form with fetch, shows a busy button, and puts the API's errors
// beside their fields, with the same sentences as the server
// (src/pages/strings.ts).

import { isTotpCode } from '../../mfa';
import { errorView, hasKey, STRINGS, type StringKey, t } from '../strings';
import { eventPager } from './activity';
import { adminPage } from './admin';
import { type ApiResult, api, readable } from './api';
import { describeDevice, timeAgo } from './device';
import { $, byId, show, status, the } from './dom';
import { setUpPasskeyList, setUpPasskeySignIn } from './passkeys';
import { setUpChangePassword } from './password';
import { setUpRevealButtons } from './reveal';
import { setUpTwoFactorSection, showTwoFactorStep } from './two-factor';

/** Events the account page shows at first, and per "older" click. */
const ACTIVITY_PAGE = 10;

interface SessionAnswer {
  user: {
    name: string;
    email: string;
    emailVerified: boolean;
    role?: string | null;
    twoFactorEnabled?: boolean | null;
  };
  session: { id: string };
}

interface ListedSession {
  id: string;
  createdAt: string;
  userAgent?: string | null;
}

// A used token has no business in the address bar or the history.
function forgetToken() {
  window.history.replaceState(null, '', window.location.pathname);
}

function clearErrors(form: HTMLFormElement) {
  show($(form, '[data-form-error]'), '');
  show($(form, '[data-form-status]'), '');
  // A provider's error from ?error= belongs to the attempt before this one.
  for (const stale of document.querySelectorAll('[data-provider-error]')) stale.remove();
  for (const extra of form.querySelectorAll('.field-extra')) extra.remove();
  for (const input of form.querySelectorAll('input')) {
    input.removeAttribute('aria-invalid');
    const error = document.getElementById(`${input.id}-error`);
    if (error) error.textContent = '';
  }
}

function fieldError(form: HTMLFormElement, id: string, text: string): boolean {
  const input = document.getElementById(id);
  const error = document.getElementById(`${id}-error`);
  if (!input || !error || !form.contains(input)) return false;
  input.setAttribute('aria-invalid', 'true');
  error.textContent = text;
  return true;
}

function link(href: string, text: string): HTMLAnchorElement {
  const anchor = document.createElement('a');
  anchor.href = href;
  anchor.textContent = text;
  return anchor;
}

/** Shows an API error the way the server's answer to a form post would. */
function formError(form: HTMLFormElement, result: { data: unknown; retryAfter?: number } | null) {
  const view = errorView(result?.data as { code?: string } | null, result?.retryAfter);
  if (view.field && fieldError(form, view.field, view.text)) {
    for (const other of view.others ?? []) fieldError(form, other.field, other.text);
    const input = byId<HTMLInputElement>(view.field);
    if (view.signInInstead) {
      const extra = document.createElement('p');
      extra.className = 'field-extra';
      const redirect = form.dataset.redirect;
      const query = new URLSearchParams({ email: input.value });
      if (redirect && redirect !== '/account') query.set('redirect', redirect);
      extra.appendChild(link(`/login?${query}`, t('signInInstead')));
      byId(`${view.field}-error`).after(extra);
    }
    input.focus();
    // A wrong password is retyped, not edited.
    if (input.type === 'password') input.select();
    return;
  }
  const box = the(form, '[data-form-error]');
  show(box, view.text);
  if (view.newLink) {
    box.append(' ');
    box.appendChild(link('/forgot-password', t('askNewLink')));
  }
  box.focus();
}

/** The catalog's sentence for an input's browser-side check, or '' when it passes. */
function fieldProblem(input: HTMLInputElement): string {
  const key = (prefix: string) => `${prefix}_${input.id}`;
  const known = (name: string): name is StringKey => hasKey(STRINGS, name);
  const required = key('required');
  const tooShort = key('tooShort');
  const tooLong = key('tooLong');
  if (input.validity.valueMissing) return known(required) ? t(required) : t('GENERIC');
  if (input.validity.typeMismatch) return t('invalidEmail');
  if (input.validity.tooShort && known(tooShort)) return t(tooShort, { min: input.minLength });
  if (input.validity.tooLong && known(tooLong)) return t(tooLong, { max: input.maxLength });
  return '';
}

// Checks in the browser first, with the same limits and sentences as the API's answers.
function checkFields(form: HTMLFormElement): boolean {
  let first: HTMLInputElement | null = null;
  for (const input of form.querySelectorAll<HTMLInputElement>('input:not([type=hidden])')) {
    const text = fieldProblem(input);
    if (text) {
      fieldError(form, input.id, text);
      if (!first) first = input;
    }
  }
  if (first) first.focus();
  return !first;
}

function value(form: HTMLFormElement, id: string): string {
  return (form.elements.namedItem(id) as HTMLInputElement).value;
}

/**
 * A button says what is happening while its action runs ("Signing in…") and
 * cannot be pressed again; it keeps its colours, so its text stays readable.
 */
function busyButton(button: HTMLButtonElement | null, on: boolean) {
  if (!button) return;
  if (on) {
    button.dataset.idleLabel = button.textContent ?? '';
    button.textContent = button.dataset.busyLabel || t('busy');
  } else if (button.dataset.idleLabel !== undefined) {
    button.textContent = button.dataset.idleLabel;
  }
  button.disabled = on;
  button.setAttribute('aria-busy', on ? 'true' : 'false');
}

/** Replaces a form's view with a confirmation (and what comes next), focused for screen readers. */
function replaceWith(form: HTMLFormElement, title: string | null, text: string, next: Node[] = []) {
  if (title) {
    const heading = $(document, 'h1');
    if (heading) heading.textContent = title;
    document.title = document.title.replace(/^[^·]*·/, `${title} ·`);
  }
  const done = document.createElement('div');
  done.className = 'form-status';
  done.setAttribute('role', 'status');
  done.setAttribute('tabindex', '-1');
  done.dataset.sent = '';
  done.textContent = text;
  form.hidden = true;
  form.before(done);
  for (const node of next) form.before(node);
  done.focus();
}

/** What each `<form data-form="…">` does when sent. */
const SUBMIT: Record<string, (form: HTMLFormElement) => Promise<unknown>> = {
  'sign-in': (form) =>
    api<{ twoFactorRedirect?: boolean } | null>('POST', '/api/auth/sign-in/email', {
      email: value(form, 'email'),
      password: value(form, 'password'),
    }).then((result) => {
      if (!result.ok) return formError(form, result);
      // Two-factor is on: no session yet, a code comes next.
      if (result.data?.twoFactorRedirect) return showTwoFactorStep(form, setUpForm);
      window.location.assign(form.dataset.redirect || '/account');
    }),
  // The code step (src/pages/mfa.tsx): six digits are a TOTP code, anything else a backup code.
  'two-factor': (form) => {
    const code = value(form, 'code').trim();
    const path = isTotpCode(code) ? 'verify-totp' : 'verify-backup-code';
    return api('POST', `/api/auth/two-factor/${path}`, { code }).then((result) => {
      if (!result.ok) return formError(form, result);
      window.location.assign(form.dataset.redirect || '/account');
    });
  },
  'sign-up': (form) => {
    const body = { name: value(form, 'name'), email: value(form, 'email'), password: value(form, 'password') };
    return api<{ token?: string } | null>('POST', '/api/auth/sign-up/email', body).then((result) => {
      if (!result.ok) return formError(form, result);
      if (result.data?.token) return window.location.assign(form.dataset.redirect || '/account');
      const resend = document.createElement('p');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'secondary';
      button.textContent = t('resendButton');
      button.dataset.busyLabel = t('resendBusy');
      button.addEventListener('click', () => {
        busyButton(button, true);
        api('POST', '/api/auth/send-verification-email', { email: body.email }).then((sent) => {
          busyButton(button, false);
          const box = $(document, '[data-sent]');
          if (box)
            box.textContent = sent.ok ? t('resendSent', { email: body.email }) : readable(sent.data, sent.retryAfter);
        });
      });
      resend.appendChild(button);
      replaceWith(form, null, t('signUpSent', { email: body.email }), [resend]);
    });
  },
  'resend-verification': (form) =>
    api('POST', '/api/auth/send-verification-email', { email: value(form, 'email') }).then((result) => {
      if (!result.ok) return formError(form, result);
      status(form, t('resendSent', { email: value(form, 'email') }));
    }),
  'forgot-password': (form) => {
    const email = value(form, 'email');
    return api('POST', '/api/auth/request-password-reset', { email }).then((result) => {
      if (!result.ok) return formError(form, result);
      const links = $(document, '.links');
      if (links) links.hidden = true;
      const next = document.createElement('p');
      next.className = 'links';
      next.append(
        link(`/forgot-password?${new URLSearchParams({ email })}`, t('resendButton')),
        link(`/login?${new URLSearchParams({ email })}`, t('backToSignIn')),
      );
      replaceWith(form, t('checkEmailTitle'), t('forgotSent', { email, minutes: Number(form.dataset.linkMinutes) }), [
        next,
      ]);
    });
  },
  'reset-password': (form) => {
    if (value(form, 'password') !== value(form, 'confirm')) {
      fieldError(form, 'confirm', t('passwordsDiffer'));
      byId('confirm').focus();
      return Promise.resolve();
    }
    const body = { token: value(form, 'token'), newPassword: value(form, 'password') };
    return api('POST', '/api/auth/reset-password', body).then((result) => {
      if (!result.ok) return formError(form, result);
      forgetToken();
      window.location.assign('/login?reset=done');
    });
  },
};

function setUpForm(form: HTMLFormElement) {
  const submit = SUBMIT[form.dataset.form ?? ''];
  if (!submit) return;
  // The browser's own bubbles give way to our sentences beside the fields.
  form.noValidate = true;
  const button = form.querySelector<HTMLButtonElement>('button[type=submit]');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (button?.disabled) return;
    clearErrors(form);
    if (!checkFields(form)) return;
    busyButton(button, true);
    form.setAttribute('aria-busy', 'true');
    const done = () => {
      busyButton(button, false);
      form.setAttribute('aria-busy', 'false');
    };
    submit(form).then(done, () => {
      done();
      formError(form, null);
    });
  });
}

/** The login page's "Forgot your password?" carries the email typed so far. */
function carryEmailToForgotLink() {
  const forgot = $(document, '[data-forgot-link]') as HTMLAnchorElement | null;
  const email = document.getElementById('email') as HTMLInputElement | null;
  if (!forgot || !email) return;
  const update = () => {
    forgot.href = email.value.trim()
      ? `/forgot-password?${new URLSearchParams({ email: email.value.trim() })}`
      : '/forgot-password';
  };
  email.addEventListener('input', update);
  update();
}

function verifyEmail(root: HTMLElement) {
  const token = root.dataset.token;
  if (!token) return;
  const progress = $(root, '[data-verify-progress]');
  const next = $(root, '[data-verify-continue]');
  api('GET', `/api/auth/verify-email?token=${encodeURIComponent(token)}`).then((result) => {
    show(progress, '');
    forgetToken();
    if (next) next.hidden = false;
    if (!result.ok) {
      const box = the(root, '[data-form-error]');
      show(box, readable(result.data, result.retryAfter));
      return box.focus();
    }
    status(root, t('verifyDone'));
  });
}

/** Runs an account action with every account button disabled, the pressed one saying what it does. */
function accountAction<T>(root: HTMLElement, button: HTMLButtonElement, work: () => Promise<ApiResult<T>>) {
  const buttons = [...root.querySelectorAll<HTMLButtonElement>('button')].filter((other) => !other.disabled);
  for (const other of buttons) other.disabled = true;
  busyButton(button, true);
  return work().then((result) => {
    busyButton(button, false);
    for (const other of buttons) other.disabled = false;
    if (!result.ok) {
      const box = the(root, '[data-form-error]');
      show(box, readable(result.data, result.retryAfter));
      box.focus();
    }
    return result;
  });
}

function sessionLine(session: ListedSession, currentId: string): string {
  const values = {
    device: describeDevice(session.userAgent),
    ago: timeAgo(new Date(session.createdAt), document.documentElement.lang),
  };
  return session.id === currentId ? t('sessionThisDevice', values) : t('sessionOther', values);
}

function account(root: HTMLElement) {
  const loading = $(document, '[data-account-loading]');
  api<SessionAnswer | null>('GET', '/api/auth/session').then((result) => {
    if (loading) loading.hidden = true;
    if (!result.ok) {
      root.hidden = false;
      return show($(root, '[data-form-error]'), readable(result.data, result.retryAfter));
    }
    if (!result.data) return window.location.replace('/login?redirect=%2Faccount');
    const { user, session: current } = result.data;
    the(root, '[data-user-name]').textContent = user.name;
    the(root, '[data-user-email]').textContent = user.email;
    const badge = the(root, '[data-user-verified]');
    badge.textContent = user.emailVerified ? t('verified') : t('notVerified');
    badge.classList.toggle('warning', !user.emailVerified);
    the(root, '[data-unverified]').hidden = !!user.emailVerified;
    the(root, '[data-unverified-text]').textContent = t('unverifiedNotice', { email: user.email });
    the(root, '[data-admin-link]').hidden = user.role !== 'admin';
    root.hidden = false;
    setUpPasskeyList(the(root, '[data-passkeys]'));
    setUpTwoFactorSection(the(root, '[data-two-factor]'), !!user.twoFactorEnabled);
    setUpChangePassword(the(root, 'form[data-change-password]') as HTMLFormElement);
    const activity = eventPager(the(root, '[data-events]'), the(root, '[data-more-events]') as HTMLButtonElement, {
      admin: false,
      onError: (data) => show($(root, '[data-form-error]'), readable(data)),
    });
    void activity.show(`/api/me/events?limit=${ACTIVITY_PAGE}`);

    const listSessions = () =>
      api<ListedSession[]>('GET', '/api/auth/list-sessions').then((list) => {
        if (!list.ok || !Array.isArray(list.data)) return;
        const target = the(root, '[data-sessions]');
        target.textContent = '';
        // This device first, then the newest.
        const sessions = [...list.data].sort(
          (a, b) =>
            Number(b.id === current.id) - Number(a.id === current.id) ||
            new Date(b.createdAt).getTime() - new Date(a.createdAt).getTime(),
        );
        for (const session of sessions) {
          const item = document.createElement('li');
          const text = document.createElement('span');
          text.textContent = sessionLine(session, current.id);
          item.appendChild(text);
          if (session.id !== current.id) {
            const button = document.createElement('button');
            button.type = 'button';
            button.className = 'secondary small';
            button.textContent = t('sessionSignOut');
            button.dataset.busyLabel = t('signOutBusy');
            button.dataset.action = 'revoke-session';
            button.dataset.sessionId = session.id;
            button.setAttribute(
              'aria-label',
              t('sessionSignOutLabel', {
                device: describeDevice(session.userAgent),
                ago: timeAgo(new Date(session.createdAt), document.documentElement.lang),
              }),
            );
            item.appendChild(button);
          }
          target.appendChild(item);
        }
      });
    void listSessions();

    root.addEventListener('click', (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button[data-action]');
      if (!button || button.disabled) return;
      const action = button.dataset.action;
      if (action === 'sign-out') {
        void accountAction(root, button, () => api('POST', '/api/auth/sign-out', {})).then((r) => {
          if (r.ok) window.location.assign('/login?signed-out=1');
        });
      } else if (action === 'revoke-others') {
        void accountAction(root, button, () => api('POST', '/api/auth/revoke-other-sessions', {})).then((r) => {
          if (!r.ok) return;
          status(root, t('revokedOthers'));
          return listSessions();
        });
      } else if (action === 'revoke-session') {
        const id = button.dataset.sessionId;
        void accountAction(root, button, () => api('POST', '/api/auth/revoke-session', { id })).then((r) => {
          if (!r.ok) return;
          status(root, t('sessionSignedOut'));
          return listSessions();
        });
      } else if (action === 'get-token') {
        void accountAction(root, button, () => api<{ token: string }>('GET', '/api/auth/token')).then((r) => {
          if (!r.ok) return;
          the(root, '[data-token-box]').hidden = false;
          const box = byId<HTMLTextAreaElement>('token');
          box.value = r.data.token;
          box.focus();
          box.select();
        });
      } else if (action === 'copy-token') {
        // Confirmed in place, through a live region; the focus stays on the button.
        const confirm = the(root, '[data-copied]');
        const token = byId<HTMLTextAreaElement>('token').value;
        navigator.clipboard.writeText(token).then(
          () => {
            confirm.textContent = t('copied');
            window.setTimeout(() => {
              confirm.textContent = '';
            }, 4000);
          },
          () => {
            confirm.textContent = t('copyByHand');
          },
        );
      } else if (action === 'send-verification') {
        void accountAction(root, button, () =>
          api('POST', '/api/auth/send-verification-email', { email: user.email }),
        ).then((r) => {
          if (r.ok) status(root, t('resendSent', { email: user.email }));
        });
      }
    });
  });
}

function start() {
  for (const form of document.querySelectorAll<HTMLFormElement>('form[data-form]')) setUpForm(form);
  carryEmailToForgotLink();
  setUpRevealButtons(document);
  const passkeySignIn = $(document, '[data-passkey-sign-in]');
  if (passkeySignIn) setUpPasskeySignIn(passkeySignIn);
  const verify = $(document, '[data-verify-email]');
  if (verify) verifyEmail(verify);
  const accountRoot = $(document, '[data-account]');
  if (accountRoot) account(accountRoot);
  const adminRoot = $(document, '[data-admin]');
  if (adminRoot) adminPage(adminRoot);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
