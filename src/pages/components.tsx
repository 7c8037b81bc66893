/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../limits';
import { MAX_CODE_INPUT_LENGTH } from '../mfa';
import { OAUTH_PROVIDERS, type OAuthCredentialsByProvider } from '../oauth/providers';
import type { Brand } from './brand';
import { type ErrorView, t } from './strings';

/** `wide`: room for lists and several sections (the admin page). */
export function Layout(props: { brand: Brand; title: string; wide?: boolean; children: Child }) {
  const { brand } = props;
  const documentTitle = props.title.includes(brand.appName)
    ? props.title
    : t('documentTitle', { page: props.title, app: brand.appName });
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{documentTitle}</title>
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/assets/pages.css" />
        {brand.accentColour ? <link rel="stylesheet" href="/assets/brand.css" /> : null}
        <script src="/assets/pages.js" defer />
      </head>
      <body>
        <main class={props.wide ? 'card wide' : 'card'}>
          {brand.logoUrl ? <img class="logo" src={brand.logoUrl} alt={brand.appName} height="40" /> : null}
          <h1>{props.title}</h1>
          {props.children}
          {brand.supportUrl ? (
            <p class="support">
              <a href={brand.supportUrl}>{t('supportLink')}</a>
            </p>
          ) : null}
        </main>
      </body>
    </html>
  );
}

interface FieldProps {
  id: string;
  label: string;
  type: 'email' | 'password' | 'text';
  autocomplete: string;
  minLength?: number;
  maxLength?: number;
  hint?: string;
  /** What the user typed, when the page comes back after a form post (never a password). */
  value?: string;
  /** The server's error for this field, after a form post. */
  error?: string;
  /** Extra content after the error (a "Sign in instead" link). */
  errorExtra?: Child;
  autofocus?: boolean;
  /** A password field with a button that shows and hides what was typed (src/pages/client/reveal.ts). */
  revealable?: boolean;
  /** `numeric` for a code field: phones show digits. */
  inputMode?: 'numeric' | 'text';
}

/** A password being chosen (sign-up, reset, change): the same bounds and show button wherever one is set. */
export function NewPasswordField(
  props: Omit<FieldProps, 'type' | 'autocomplete' | 'minLength' | 'maxLength' | 'revealable'>,
) {
  return (
    <Field
      {...props}
      type="password"
      autocomplete="new-password"
      minLength={MIN_PASSWORD_LENGTH}
      maxLength={MAX_PASSWORD_LENGTH}
      revealable
    />
  );
}

/** The account's current password, asked again before a change to how it signs in. */
export function PasswordCheckField(props: { id: string; label: string }) {
  return (
    <Field
      id={props.id}
      label={props.label}
      type="password"
      autocomplete="current-password"
      maxLength={MAX_PASSWORD_LENGTH}
      revealable
    />
  );
}

/** A one-time code from an authenticator app (or a backup code): digits on phones, one-time-code autofill. */
export function CodeField(props: Omit<FieldProps, 'type' | 'autocomplete' | 'inputMode' | 'maxLength'>) {
  return (
    <Field {...props} type="text" autocomplete="one-time-code" inputMode="numeric" maxLength={MAX_CODE_INPUT_LENGTH} />
  );
}

/**
 * The show-password button of a password field: a real button (keyboard,
 * screen readers) whose name says what it will do, "Show password" or "Hide
 * password". Not also aria-pressed: a toggle whose name changes too would be
 * read as "Hide password, pressed". The script turns the input into type=text
 * and back; without the script it stays hidden.
 */
export function RevealButton(props: { for: string }) {
  return (
    <button
      type="button"
      class="secondary reveal"
      data-reveal={props.for}
      data-show-label={t('showPassword')}
      data-hide-label={t('hidePassword')}
      aria-controls={props.for}
      hidden
    >
      {t('showPassword')}
    </button>
  );
}

/** A labelled input whose error (and hint) screen readers read with it. */
export function Field(props: FieldProps) {
  const describedBy = [props.hint ? `${props.id}-hint` : '', `${props.id}-error`].filter(Boolean).join(' ');
  const input = (
    <input
      id={props.id}
      name={props.id}
      type={props.type}
      autocomplete={props.autocomplete}
      required
      minlength={props.minLength}
      maxlength={props.maxLength}
      inputmode={props.inputMode}
      value={props.type === 'password' ? undefined : props.value || undefined}
      aria-invalid={props.error ? 'true' : undefined}
      autofocus={props.autofocus || undefined}
      aria-describedby={describedBy}
    />
  );
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {props.revealable ? (
        <div class="reveal-row">
          {input}
          <RevealButton for={props.id} />
        </div>
      ) : (
        input
      )}
      <p class="field-error" id={`${props.id}-error`}>
        {props.error ?? ''}
      </p>
      {props.errorExtra ? <p class="field-extra">{props.errorExtra}</p> : null}
    </div>
  );
}

/**
 * Where form-wide errors (rate limits, a foreign origin) and confirmations
 * appear; filled by the server after a form post, or by the script.
 */
export function FormMessages(props: { error?: string; errorExtra?: Child; status?: string } = {}) {
  return (
    <>
      <div class="form-error" role="alert" tabindex={-1} data-form-error hidden={!props.error}>
        {props.error ?? ''}
        {props.error && props.errorExtra ? <> {props.errorExtra}</> : null}
      </div>
      <div class="form-status" role="status" tabindex={-1} data-form-status hidden={!props.status}>
        {props.status ?? ''}
      </div>
    </>
  );
}

/** The top-of-form message for an API error that belongs to no field. */
export function formErrorOf(view: ErrorView | undefined): { error?: string; errorExtra?: Child } {
  if (!view || view.field) return {};
  return {
    error: view.text,
    errorExtra: view.newLink ? <a href="/forgot-password">{t('askNewLink')}</a> : undefined,
  };
}

/** "Continue with …" for the configured providers only. */
export function ProviderButtons(props: { providers: OAuthCredentialsByProvider; redirect: string }) {
  const configured = OAUTH_PROVIDERS.filter(({ id }) => props.providers[id]);
  if (configured.length === 0) return null;
  const query = new URLSearchParams({ callbackURL: props.redirect, errorCallbackURL: '/login' });
  return (
    <div class="providers">
      {configured.map(({ id, name }) => (
        <a class="button secondary" href={`/api/auth/sign-in/${id}?${query}`} data-provider={id}>
          {t('continueWith', { provider: name })}
        </a>
      ))}
      <p class="divider">
        <span>{t('orDivider')}</span>
      </p>
    </div>
  );
}
