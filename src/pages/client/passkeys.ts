import {
  browserSupportsWebAuthn,
  browserSupportsWebAuthnAutofill,
  startAuthentication,
  startRegistration,
  WebAuthnAbortService,
} from '@simplewebauthn/browser';
import { t } from '../strings';
import { api, readable } from './api';
import { timeAgo } from './device';
import { $, show, status, the } from './dom';

// Passkeys on the pages: "Sign in with a passkey" and passkey autofill on the
// login page, the list (add, rename, remove) on the account page.
// @simplewebauthn/browser speaks WebAuthn's JSON forms, which the passkey
// plugin's endpoints take and give.

interface ListedPasskey {
  id: string;
  name?: string | null;
  createdAt: string;
  deviceType?: string;
}

/** The browser said no (cancelled, timed out, no passkey): not an error to shout about. */
function cancelled(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return name === 'NotAllowedError' || name === 'AbortError';
}

async function passkeySignIn(autofill: boolean): Promise<{ ok: true } | { ok: false; message: string | null }> {
  const options = await api<Parameters<typeof startAuthentication>[0]['optionsJSON']>(
    'GET',
    '/api/auth/passkey/generate-authenticate-options',
  );
  if (!options.ok) return { ok: false, message: readable(options.data, options.retryAfter) };
  let response: Awaited<ReturnType<typeof startAuthentication>>;
  try {
    response = await startAuthentication({ optionsJSON: options.data, useBrowserAutofill: autofill });
  } catch (error) {
    return { ok: false, message: cancelled(error) ? null : t('passkeyUnavailable') };
  }
  const verified = await api('POST', '/api/auth/passkey/verify-authentication', { response });
  return verified.ok ? { ok: true } : { ok: false, message: readable(verified.data, verified.retryAfter) };
}

/** The login page: the button, and the browser's own passkey suggestions on the email field. */
export function setUpPasskeySignIn(box: HTMLElement) {
  if (!browserSupportsWebAuthn()) return;
  box.hidden = false;
  const redirect = box.dataset.redirect || '/account';
  const error = the(box, '[data-passkey-error]');
  const button = the(box, '[data-action="passkey-sign-in"]') as HTMLButtonElement;
  const done = () => window.location.assign(redirect);

  button.addEventListener('click', () => {
    show(error, '');
    button.disabled = true;
    // One WebAuthn request at a time: the button's replaces the autofill one.
    WebAuthnAbortService.cancelCeremony();
    passkeySignIn(false).then((result) => {
      button.disabled = false;
      if (result.ok) return done();
      if (result.message) {
        show(error, result.message);
        error.focus();
      }
      void startAutofill();
    });
  });

  // Conditional mediation: the email field's suggestions include passkeys
  // (autocomplete="username webauthn"); picking one signs in.
  async function startAutofill() {
    if (!(await browserSupportsWebAuthnAutofill())) return;
    const result = await passkeySignIn(true);
    if (result.ok) return done();
    if (result.message) show(error, result.message);
  }
  void startAutofill();
}

function listItem(passkey: ListedPasskey, onChange: (message?: string) => void, root: HTMLElement): HTMLLIElement {
  const item = document.createElement('li');
  item.dataset.passkeyId = passkey.id;
  const name = passkey.name || t('passkeyDefaultName');
  const label = document.createElement('span');
  label.className = 'passkey-name';
  label.textContent = t('passkeyLine', {
    name,
    ago: timeAgo(new Date(passkey.createdAt), document.documentElement.lang),
  });
  const button = (text: string, aria: string) => {
    const element = document.createElement('button');
    element.type = 'button';
    element.className = 'secondary small';
    element.textContent = text;
    element.setAttribute('aria-label', aria);
    return element;
  };
  const rename = button(t('passkeyRename'), t('passkeyRenameLabel', { name }));
  const remove = button(t('passkeyRemove'), t('passkeyRemoveLabel', { name }));
  item.append(label, ' ', rename, ' ', remove);

  const fail = (data: Parameters<typeof readable>[0], retryAfter?: number) => {
    const box = the(root, '[data-form-error]');
    show(box, readable(data, retryAfter));
    box.focus();
  };

  rename.addEventListener('click', () => {
    const form = document.createElement('form');
    form.className = 'inline-rename';
    const input = document.createElement('input');
    input.type = 'text';
    input.value = passkey.name ?? '';
    input.maxLength = 100;
    input.required = true;
    input.setAttribute('aria-label', t('passkeyNewName'));
    const save = document.createElement('button');
    save.type = 'submit';
    save.className = 'small';
    save.textContent = t('passkeySave');
    form.append(input, ' ', save);
    item.replaceChildren(form);
    input.focus();
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const newName = input.value.trim();
      if (!newName) return input.focus();
      api('POST', '/api/auth/passkey/update-passkey', { id: passkey.id, name: newName }).then((result) => {
        if (!result.ok) return fail(result.data, result.retryAfter);
        onChange(t('passkeyRenamed'));
      });
    });
  });
  remove.addEventListener('click', () => {
    api('POST', '/api/auth/passkey/delete-passkey', { id: passkey.id }).then((result) => {
      if (!result.ok) return fail(result.data, result.retryAfter);
      onChange(t('passkeyRemoved'));
    });
  });
  return item;
}

/** The account page's Passkeys section. */
export function setUpPasskeyList(root: HTMLElement) {
  const list = the(root, '[data-passkey-list]');
  const form = the(root, 'form[data-passkey-add]') as HTMLFormElement;
  const fail = (message: string) => {
    const box = the(root, '[data-form-error]');
    show(box, message);
    box.focus();
  };

  function refresh(message?: string) {
    api<ListedPasskey[]>('GET', '/api/auth/passkey/list-user-passkeys').then((result) => {
      if (!result.ok || !Array.isArray(result.data)) {
        return fail(readable(result.ok ? null : result.data, result.retryAfter));
      }
      list.replaceChildren(...result.data.map((passkey) => listItem(passkey, refresh, root)));
      if (result.data.length === 0) {
        const empty = document.createElement('li');
        empty.className = 'hint';
        empty.textContent = t('passkeysNone');
        list.appendChild(empty);
      }
      if (message) status(root, message);
    });
  }
  refresh();

  if (!browserSupportsWebAuthn()) {
    form.hidden = true;
    return;
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    show($(root, '[data-form-error]'), '');
    const name = (form.elements.namedItem('passkey-name') as HTMLInputElement).value.trim();
    const button = form.querySelector<HTMLButtonElement>('button[type=submit]');
    if (button) button.disabled = true;
    const query = name ? `?${new URLSearchParams({ name })}` : '';
    const finish = () => {
      if (button) button.disabled = false;
    };
    api<Parameters<typeof startRegistration>[0]['optionsJSON']>(
      'GET',
      `/api/auth/passkey/generate-register-options${query}`,
    )
      .then(async (options) => {
        if (!options.ok) return fail(readable(options.data, options.retryAfter));
        let response: Awaited<ReturnType<typeof startRegistration>>;
        try {
          response = await startRegistration({ optionsJSON: options.data });
        } catch (error) {
          if (!cancelled(error)) fail(t('passkeyCreateUnavailable'));
          return;
        }
        const added = await api('POST', '/api/auth/passkey/verify-registration', {
          response,
          ...(name ? { name } : {}),
        });
        if (!added.ok) return fail(readable(added.data, added.retryAfter));
        form.reset();
        refresh(t('passkeyAdded'));
      })
      .finally(finish);
  });
}
