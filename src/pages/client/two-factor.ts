import { t } from '../strings';
import { api, readable } from './api';
import { $, byId, show, status, the } from './dom';
import { drawQrCode } from './qr';

// Two-factor on the pages: the login page's code step after a right password
// (its form is sent by pages.ts, like every data-form), and the account
// page's section (set up with a QR code drawn here, backup codes shown once,
// turned off with the password).

/**
 * The login page: the password was right and a code is wanted; no session
 * exists yet. The step's form comes from its template, in place of the
 * password form; `setUp` gives it the pages' form handling.
 */
export function showTwoFactorStep(passwordForm: HTMLFormElement, setUp: (form: HTMLFormElement) => void) {
  const template = $(document, 'template[data-two-factor-step]') as HTMLTemplateElement | null;
  const step = template?.content.firstElementChild?.cloneNode(true) as HTMLFormElement | undefined;
  if (!step) return;
  passwordForm.replaceWith(step);
  for (const other of document.querySelectorAll<HTMLElement>('[data-passkey-sign-in], .providers, .links')) {
    if (!step.contains(other)) other.hidden = true;
  }
  setUp(step);
  byId('code').focus();
}

interface Enabled {
  totpURI: string;
  backupCodes: string[];
}

/** The account page's "Two-factor authentication" section. */
export function setUpTwoFactorSection(root: HTMLElement, enabled: boolean) {
  const statusLine = the(root, '[data-two-factor-status]');
  const enableForm = the(root, 'form[data-two-factor-enable]') as HTMLFormElement;
  const setup = the(root, '[data-two-factor-setup]');
  const confirmForm = the(root, 'form[data-two-factor-confirm]') as HTMLFormElement;
  const disableForm = the(root, 'form[data-two-factor-disable]') as HTMLFormElement;
  const errorBox = the(root, '[data-form-error]');

  const fail = (text: string) => {
    show(errorBox, text);
    errorBox.focus();
  };
  const clear = () => {
    show(errorBox, '');
    show($(root, '[data-form-status]'), '');
  };

  function render(on: boolean) {
    statusLine.textContent = (on ? statusLine.dataset.on : statusLine.dataset.off) ?? '';
    enableForm.hidden = on;
    disableForm.hidden = !on;
    setup.hidden = true;
  }
  render(enabled);

  enableForm.addEventListener('submit', (event) => {
    event.preventDefault();
    clear();
    const password = byId<HTMLInputElement>('enable-password').value;
    if (!password) return fail(t('required_password'));
    api<Enabled>('POST', '/api/auth/two-factor/enable', { password }).then((result) => {
      if (!result.ok) return fail(readable(result.data, result.retryAfter));
      enableForm.reset();
      enableForm.hidden = true;
      const { totpURI, backupCodes } = result.data;
      drawQrCode(the(root, '[data-totp-qr]'), totpURI);
      the(root, '[data-totp-secret]').textContent = new URL(totpURI).searchParams.get('secret') ?? '';
      the(root, '[data-backup-codes]').replaceChildren(
        ...backupCodes.map((code) => {
          const item = document.createElement('li');
          const text = document.createElement('code');
          text.textContent = code;
          item.appendChild(text);
          return item;
        }),
      );
      setup.hidden = false;
      byId('confirm-code').focus();
    });
  });

  confirmForm.addEventListener('submit', (event) => {
    event.preventDefault();
    clear();
    const code = byId<HTMLInputElement>('confirm-code').value.trim();
    if (!code) return fail(t('required_code'));
    api('POST', '/api/auth/two-factor/verify-totp', { code }).then((result) => {
      if (!result.ok) return fail(readable(result.data, result.retryAfter));
      confirmForm.reset();
      // The backup codes leave the page with the setup: they are shown once.
      the(root, '[data-backup-codes]').replaceChildren();
      the(root, '[data-totp-qr]').replaceChildren();
      the(root, '[data-totp-secret]').textContent = '';
      render(true);
      status(root, t('twoFactorEnabled'));
    });
  });

  disableForm.addEventListener('submit', (event) => {
    event.preventDefault();
    clear();
    const password = byId<HTMLInputElement>('disable-password').value;
    if (!password) return fail(t('required_password'));
    api('POST', '/api/auth/two-factor/disable', { password }).then((result) => {
      if (!result.ok) return fail(readable(result.data, result.retryAfter));
      disableForm.reset();
      render(false);
      status(root, t('twoFactorDisabled'));
    });
  });
}
