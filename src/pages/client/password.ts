import { t } from '../strings';
import { api, readable } from './api';
import { byId, show, status, the } from './dom';

// The account page's "Change your password": the current one, then the new
// one; every other session ends (the API's default), this one goes on.

export function setUpChangePassword(form: HTMLFormElement) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const error = the(form, '[data-form-error]');
    show(error, '');
    show(the(form, '[data-form-status]'), '');
    const currentPassword = byId<HTMLInputElement>('current-password').value;
    const next = byId<HTMLInputElement>('new-password');
    if (!currentPassword || !next.value) {
      show(error, t('enterBothPasswords'));
      return error.focus();
    }
    if (next.validity.tooShort) {
      show(error, t('tooShort_password', { min: next.minLength }));
      return next.focus();
    }
    api('POST', '/api/auth/change-password', { currentPassword, newPassword: next.value }).then((result) => {
      if (!result.ok) {
        show(error, readable(result.data, result.retryAfter));
        return error.focus();
      }
      form.reset();
      status(form, t('passwordChanged'));
    });
  });
}
