/** @jsxImportSource hono/jsx */
import { MIN_PASSWORD_LENGTH } from '../limits';
import { BACKUP_CODE_COUNT, MAX_PASSKEY_NAME_LENGTH } from '../mfa';
import { CodeField, FormMessages, NewPasswordField, PasswordCheckField } from './components';
import { type FormState, withQuery } from './forms';
import { t } from './strings';

// The pages' parts for passkeys, two-factor and the password: the login
// page's passkey button and code step, the account page's sections. Their
// scripts are src/pages/client/passkeys.ts, two-factor.ts and password.ts.

/** "Sign in with a passkey", under the login form; the script shows it where WebAuthn exists. */
export function PasskeySignIn(props: { redirect: string }) {
  return (
    <div class="passkey-sign-in" data-passkey-sign-in data-redirect={props.redirect} hidden>
      <p class="divider">
        <span>{t('orDivider')}</span>
      </p>
      <div class="form-error" role="alert" tabindex={-1} data-passkey-error hidden />
      <button type="button" class="secondary" data-action="passkey-sign-in" data-busy-label={t('passkeyBusy')}>
        {t('passkeySignIn')}
      </button>
    </div>
  );
}

/**
 * The code step after a right password when two-factor is on: no session
 * exists until a code is accepted. One field takes a TOTP code or a backup
 * code (six digits are a TOTP code). It posts to /login (`intent=code`), so
 * it works without the script; with it, the form comes from a template in
 * place of the password form (src/pages/client/two-factor.ts) and is sent
 * with fetch.
 */
export function TwoFactorForm(props: { redirect: string; state: FormState }) {
  const { state } = props;
  const codeError = state.error?.field === 'code' ? state.error.text : undefined;
  return (
    <form
      method="post"
      action={withQuery('/login', { redirect: props.redirect === '/account' ? undefined : props.redirect })}
      data-form="two-factor"
      data-redirect={props.redirect}
    >
      <FormMessages error={state.error && !state.error.field ? state.error.text : undefined} />
      <input type="hidden" name="intent" value="code" />
      <p>{t('twoFactorIntro')}</p>
      <CodeField id="code" label={t('codeLabel')} error={codeError} autofocus />
      <button type="submit" data-busy-label={t('verifyBusy')}>
        {t('verifyButton')}
      </button>
      <p class="links">
        <a href={withQuery('/login', { redirect: props.redirect === '/account' ? undefined : props.redirect })}>
          {t('startOver')}
        </a>
      </p>
    </form>
  );
}

/** The code step for the script: a template, so the login page's DOM stays as it is until a code is wanted. */
export function TwoFactorTemplate(props: { redirect: string }) {
  return (
    <template data-two-factor-step>
      <TwoFactorForm redirect={props.redirect} state={{}} />
    </template>
  );
}

// On the account page every section's action is secondary: the one primary
// button is the step a flow is waiting for (a code to turn two-factor on).
// The forms are the script's alone (the page has no POST handler), yet each
// says method="post": a form shown before its handler is bound (the session
// read failed) would otherwise send its passwords or code as a GET query.
export function PasskeysSection() {
  return (
    <section aria-labelledby="passkeys-heading" data-passkeys>
      <h2 id="passkeys-heading">{t('passkeysHeading')}</h2>
      <p class="hint">{t('passkeysHint')}</p>
      <FormMessages />
      <ul class="passkeys" data-passkey-list aria-labelledby="passkeys-heading" />
      <form method="post" data-passkey-add novalidate>
        <div class="field">
          <label for="passkey-name">{t('passkeyNameLabel')}</label>
          <input
            id="passkey-name"
            name="passkey-name"
            type="text"
            autocomplete="off"
            maxlength={MAX_PASSKEY_NAME_LENGTH}
            aria-describedby="passkey-name-error"
          />
          <p class="field-error" id="passkey-name-error" />
        </div>
        <button type="submit" class="secondary" data-busy-label={t('passkeyBusy')}>
          {t('passkeyAddButton')}
        </button>
      </form>
    </section>
  );
}

export function TwoFactorSection() {
  return (
    <section aria-labelledby="two-factor-heading" data-two-factor>
      <h2 id="two-factor-heading">{t('twoFactorHeading')}</h2>
      <FormMessages />
      <p data-two-factor-status data-on={t('twoFactorOn')} data-off={t('twoFactorOff')} />
      <form method="post" data-two-factor-enable novalidate hidden>
        <p class="hint">{t('twoFactorSetupHint')}</p>
        <PasswordCheckField id="enable-password" label={t('yourPasswordLabel')} />
        <button type="submit" class="secondary">
          {t('twoFactorSetupButton')}
        </button>
      </form>
      <div data-two-factor-setup hidden>
        <p>{t('twoFactorScan')}</p>
        <div class="qr" data-totp-qr role="img" aria-label={t('twoFactorQrLabel')} />
        <p>
          {t('twoFactorKeyLabel')}: <code data-totp-secret />
        </p>
        <p>{t('backupCodesIntro', { count: BACKUP_CODE_COUNT })}</p>
        <ul class="backup-codes" data-backup-codes />
        <form method="post" data-two-factor-confirm novalidate>
          <CodeField id="confirm-code" label={t('confirmCodeLabel')} />
          <button type="submit">{t('twoFactorTurnOn')}</button>
        </form>
      </div>
      <form method="post" data-two-factor-disable novalidate hidden>
        <PasswordCheckField id="disable-password" label={t('yourPasswordLabel')} />
        <button type="submit" class="secondary">
          {t('twoFactorTurnOff')}
        </button>
      </form>
    </section>
  );
}

export function ChangePasswordSection() {
  return (
    <section aria-labelledby="password-heading">
      <h2 id="password-heading">{t('passwordHeading')}</h2>
      <form method="post" data-change-password novalidate>
        <FormMessages />
        <PasswordCheckField id="current-password" label={t('currentPasswordLabel')} />
        <NewPasswordField
          id="new-password"
          label={t('newPasswordLabel')}
          hint={t('changePasswordHint', { min: MIN_PASSWORD_LENGTH })}
        />
        <button type="submit" class="secondary">
          {t('changePasswordButton')}
        </button>
      </form>
    </section>
  );
}
