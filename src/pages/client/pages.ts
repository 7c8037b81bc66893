// The pages' one script, served as /assets/pages.js (the CSP allows no inline
// code), bundled from this file and the modules it imports. No framework:
// forms post JSON to the API on this origin and show its errors as readable
// messages next to the field they concern.

import { eventPager } from './activity';
import { adminPage } from './admin';
import { type ApiError, api, readable } from './api';
import { $, byId, show, status, the } from './dom';

/** Events the account page shows at first, and per "older" click. */
const ACTIVITY_PAGE = 10;

/**
 * VALIDATION_ERROR messages start with the API's name of the field: "email must
 * be a valid email address". This maps it to the input that holds the field on
 * our pages, whose id is also the word the message shows ("The password ...").
 */
const INPUT_OF_FIELD: Record<string, string> = {
  email: 'email',
  password: 'password',
  name: 'name',
  newPassword: 'password',
};

interface SessionAnswer {
  user: { name: string; email: string; emailVerified: boolean; role?: string | null };
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

function formError(form: HTMLFormElement, data: ApiError | null) {
  const text = readable(data);
  if (data && data.code === 'VALIDATION_ERROR' && typeof data.message === 'string') {
    const input = INPUT_OF_FIELD[data.message.split(' ')[0] ?? ''];
    if (input && fieldError(form, input, data.message.replace(/^\S+/, `The ${input}`))) {
      byId(input).focus();
      return;
    }
  }
  const box = the(form, '[data-form-error]');
  show(box, text);
  box.focus();
}

// Checks in the browser first, with the same limits as the API.
function checkFields(form: HTMLFormElement): boolean {
  let first: HTMLInputElement | null = null;
  for (const input of form.querySelectorAll('input')) {
    const label = the(form, `label[for="${input.id}"]`).textContent ?? '';
    let text = '';
    if (input.validity.valueMissing) text = `Enter your ${label.toLowerCase()}.`;
    else if (input.validity.typeMismatch) text = 'Enter a valid email address, like name@example.com.';
    else if (input.validity.tooShort) text = `${label} must be at least ${input.minLength} characters.`;
    else if (input.validity.tooLong) text = `${label} must be at most ${input.maxLength} characters.`;
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

function busy(form: HTMLFormElement, on: boolean) {
  const button = form.querySelector<HTMLButtonElement>('button[type=submit]');
  if (button) button.disabled = on;
  form.setAttribute('aria-busy', on ? 'true' : 'false');
}

/** What each `<form data-form="…">` does when sent. */
const SUBMIT: Record<string, (form: HTMLFormElement) => Promise<unknown>> = {
  'sign-in': (form) =>
    api('POST', '/api/auth/sign-in/email', { email: value(form, 'email'), password: value(form, 'password') }).then(
      (result) => {
        if (!result.ok) return formError(form, result.data);
        window.location.assign(form.dataset.redirect || '/account');
      },
    ),
  'sign-up': (form) => {
    const body = { name: value(form, 'name'), email: value(form, 'email'), password: value(form, 'password') };
    return api<{ token?: string } | null>('POST', '/api/auth/sign-up/email', body).then((result) => {
      if (!result.ok) return formError(form, result.data);
      if (result.data?.token) return window.location.assign(form.dataset.redirect || '/account');
      status(form, `Almost done: we sent a link to ${body.email}. Open it to verify your email, then sign in.`);
      form.reset();
    });
  },
  'forgot-password': (form) => {
    const email = value(form, 'email');
    return api('POST', '/api/auth/request-password-reset', { email }).then((result) => {
      if (!result.ok) return formError(form, result.data);
      status(
        form,
        `If an account exists for ${email}, we sent it a link to choose a new password. It works for an hour.`,
      );
    });
  },
  'reset-password': (form) => {
    if (value(form, 'password') !== value(form, 'confirm')) {
      fieldError(form, 'confirm', 'The two passwords are not the same.');
      byId('confirm').focus();
      return Promise.resolve();
    }
    const body = { token: form.dataset.token, newPassword: value(form, 'password') };
    return api('POST', '/api/auth/reset-password', body).then((result) => {
      if (!result.ok) return formError(form, result.data);
      form.hidden = true;
      const done = document.createElement('div');
      done.className = 'form-status';
      done.setAttribute('role', 'status');
      done.setAttribute('tabindex', '-1');
      done.textContent = 'Your password is changed, and every session of your account is signed out. ';
      const link = document.createElement('a');
      link.href = '/login';
      link.textContent = 'Sign in with the new password';
      done.appendChild(link);
      form.before(done);
      done.focus();
      forgetToken();
    });
  },
};

function setUpForm(form: HTMLFormElement) {
  const submit = SUBMIT[form.dataset.form ?? ''];
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!checkFields(form)) return;
    busy(form, true);
    const sent = submit ? submit(form) : Promise.reject(new Error(`No action for form ${form.dataset.form}`));
    sent.then(
      () => busy(form, false),
      () => {
        busy(form, false);
        formError(form, null);
      },
    );
  });
}

function verifyEmail(root: HTMLElement) {
  const token = root.dataset.token;
  if (!token) return;
  const progress = $(root, '[data-verify-progress]');
  api('GET', `/api/auth/verify-email?token=${encodeURIComponent(token)}`).then((result) => {
    show(progress, '');
    if (!result.ok) {
      const box = the(root, '[data-form-error]');
      show(box, readable(result.data));
      return box.focus();
    }
    status(root, 'Thank you: your email is verified.');
    forgetToken();
  });
}

function account(root: HTMLElement) {
  api<SessionAnswer | null>('GET', '/api/auth/session').then((result) => {
    if (!result.ok) {
      root.hidden = false;
      return show($(root, '[data-form-error]'), readable(result.data));
    }
    if (!result.data) return window.location.replace('/login?redirect=%2Faccount');
    const { user, session: current } = result.data;
    the(root, '[data-user-name]').textContent = user.name;
    the(root, '[data-user-email]').textContent = user.email;
    the(root, '[data-user-verified]').textContent = user.emailVerified ? 'verified' : 'not verified';
    the(root, '[data-unverified]').hidden = !!user.emailVerified;
    the(root, '[data-admin-link]').hidden = user.role !== 'admin';
    root.hidden = false;
    const activity = eventPager(the(root, '[data-events]'), the(root, '[data-more-events]') as HTMLButtonElement, {
      admin: false,
      onError: (data) => show($(root, '[data-form-error]'), readable(data)),
    });
    void activity.show(`/api/me/events?limit=${ACTIVITY_PAGE}`);
    api<ListedSession[]>('GET', '/api/auth/list-sessions').then((list) => {
      if (!list.ok || !Array.isArray(list.data)) return;
      const target = the(root, '[data-sessions]');
      target.textContent = '';
      for (const session of list.data) {
        const item = document.createElement('li');
        const when = new Date(session.createdAt).toLocaleString();
        const agent = session.userAgent ? ` · ${session.userAgent.slice(0, 60)}` : '';
        const here = session.id === current.id ? ' (this browser)' : '';
        item.textContent = `Signed in ${when}${agent}${here}`;
        target.appendChild(item);
      }
    });
    root.addEventListener('click', (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button[data-action]');
      if (!button) return;
      const action = button.dataset.action;
      if (action === 'sign-out') {
        api('POST', '/api/auth/sign-out', {}).then((r) => {
          if (!r.ok) return show($(root, '[data-form-error]'), readable(r.data));
          window.location.assign('/login');
        });
      } else if (action === 'revoke-others') {
        api('POST', '/api/auth/revoke-other-sessions', {}).then((r) => {
          if (!r.ok) return show($(root, '[data-form-error]'), readable(r.data));
          status(root, 'Your other sessions are signed out.');
        });
      } else if (action === 'get-token') {
        api<{ token: string }>('GET', '/api/auth/token').then((r) => {
          if (!r.ok) return show($(root, '[data-form-error]'), readable(r.data));
          the(root, '[data-token-box]').hidden = false;
          const box = byId<HTMLTextAreaElement>('token');
          box.value = r.data.token;
          box.focus();
          box.select();
        });
      } else if (action === 'copy-token') {
        const token = byId<HTMLTextAreaElement>('token').value;
        navigator.clipboard.writeText(token).then(
          () => status(root, 'Token copied.'),
          () => {
            byId<HTMLTextAreaElement>('token').select();
            status(root, 'Select the token and copy it with your keyboard.');
          },
        );
      } else if (action === 'send-verification') {
        api('POST', '/api/auth/send-verification-email', { email: user.email }).then((r) => {
          if (!r.ok) return show($(root, '[data-form-error]'), readable(r.data));
          status(root, `We sent a new link to ${user.email}.`);
        });
      }
    });
  });
}

function start() {
  for (const form of document.querySelectorAll<HTMLFormElement>('form[data-form]')) setUpForm(form);
  const verify = $(document, '[data-verify-email]');
  if (verify) verifyEmail(verify);
  const accountRoot = $(document, '[data-account]');
  if (accountRoot) account(accountRoot);
  const adminRoot = $(document, '[data-admin]');
  if (adminRoot) adminPage(adminRoot);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
