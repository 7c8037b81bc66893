/** @jsxImportSource hono/jsx */
import type { AppConfig } from '../config';
import { MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../limits';
import { Field, FormMessages, formErrorOf, NewPasswordField, ProviderButtons } from './components';
import { type ErrorView, t } from './strings';

// The sign-in pages' forms, for a first visit and for the answer to a form
// post (the same view, with what was typed and the server's errors). Each
// form posts to its own page path (src/pages/routes.tsx), so it works before
// and without the script, which only submits it with fetch instead.

/** What a form shows after a post: the values typed (never a password) and the error. */
export interface FormState {
  values?: Record<string, string>;
  error?: ErrorView;
}

/** The error for one field, if the view's error belongs to it. */
function fieldError(state: FormState, id: string): string | undefined {
  if (state.error?.field === id) return state.error.text;
  return state.error?.others?.find((other) => other.field === id)?.text;
}

/** A field's error, and focus when it is the one the page's main error is about. */
function errorProps(state: FormState, id: string) {
  return { error: fieldError(state, id), autofocus: state.error?.field === id };
}

/** `path?query` with the non-empty parameters only. */
export function withQuery(path: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams(
    Object.entries(params).filter((entry): entry is [string, string] => !!entry[1]),
  ).toString();
  return query ? `${path}?${query}` : path;
}

function SubmitButton(props: { label: string; busy: string }) {
  return (
    <button type="submit" data-busy-label={props.busy}>
      {props.label}
    </button>
  );
}

export function SignInForm(props: {
  config: AppConfig;
  redirect: string;
  state: FormState;
  providerError?: string;
  notice?: string;
}) {
  const { state, redirect } = props;
  const email = state.values?.email ?? '';
  const wrongPassword = state.error?.field === 'password';
  return (
    <>
      {props.providerError ? (
        <div class="form-error" role="alert" data-provider-error>
          {props.providerError}
        </div>
      ) : null}
      <ProviderButtons providers={props.config.oauthProviders} redirect={redirect} />
      <form
        method="post"
        action={withQuery('/login', { redirect: redirect === '/account' ? undefined : redirect })}
        data-form="sign-in"
        data-redirect={redirect}
      >
        <FormMessages {...formErrorOf(state.error)} status={props.notice} />
        {/* `webauthn`: the browser offers saved passkeys here too (conditional mediation). */}
        <Field
          id="email"
          label={t('emailLabel')}
          type="email"
          autocomplete="username webauthn"
          maxLength={MAX_EMAIL_LENGTH}
          value={email}
          {...errorProps(state, 'email')}
        />
        <Field
          id="password"
          label={t('passwordLabel')}
          type="password"
          autocomplete="current-password"
          maxLength={MAX_PASSWORD_LENGTH}
          error={fieldError(state, 'password')}
          autofocus={wrongPassword}
          revealable
        />
        <SubmitButton label={t('signInButton')} busy={t('signInBusy')} />
      </form>
      <p class="links">
        <a href={withQuery('/forgot-password', { email })} data-forgot-link>
          {t('forgotLink')}
        </a>
        <a href={withQuery('/signup', { redirect })}>{t('signUpLink')}</a>
      </p>
    </>
  );
}

/** `/login` for a browser that has a session already: go on as that user, or sign in as another. */
export function ContinueAs(props: { name: string; email: string; redirect: string }) {
  return (
    <>
      <p>{t('signedInAs', { email: props.email })}</p>
      <p>
        <a class="button block" href={props.redirect}>
          {t('continueAs', { name: props.name })}
        </a>
      </p>
      <p>
        <a class="button secondary block" href={withQuery('/login', { redirect: props.redirect, switch: '1' })}>
          {t('useAnotherAccount')}
        </a>
      </p>
    </>
  );
}

export function SignUpForm(props: { config: AppConfig; redirect: string; state: FormState }) {
  const { state, redirect } = props;
  const email = state.values?.email ?? '';
  return (
    <>
      <ProviderButtons providers={props.config.oauthProviders} redirect={redirect} />
      <form
        method="post"
        action={withQuery('/signup', { redirect: redirect === '/account' ? undefined : redirect })}
        data-form="sign-up"
        data-redirect={redirect}
      >
        <FormMessages {...formErrorOf(state.error)} />
        <Field
          id="name"
          label={t('nameLabel')}
          type="text"
          autocomplete="name"
          maxLength={MAX_NAME_LENGTH}
          value={state.values?.name}
          {...errorProps(state, 'name')}
        />
        <Field
          id="email"
          label={t('emailLabel')}
          type="email"
          autocomplete="email"
          maxLength={MAX_EMAIL_LENGTH}
          value={email}
          error={fieldError(state, 'email')}
          errorExtra={
            state.error?.signInInstead ? (
              <a href={withQuery('/login', { email, redirect: redirect === '/account' ? undefined : redirect })}>
                {t('signInInstead')}
              </a>
            ) : undefined
          }
          autofocus={state.error?.field === 'email'}
        />
        <NewPasswordField
          id="password"
          label={t('passwordLabel')}
          hint={t('passwordHint', { min: MIN_PASSWORD_LENGTH })}
          {...errorProps(state, 'password')}
        />
        <SubmitButton label={t('signUpButton')} busy={t('signUpBusy')} />
      </form>
      <p class="links">
        <a href={withQuery('/login', { redirect })}>{t('signInLink')}</a>
      </p>
    </>
  );
}

/** After a sign-up that must verify the email first: where the link went, and a way to send it again. */
export function SignUpSent(props: { email: string; status?: string; state?: FormState }) {
  return (
    <>
      <p class="form-status" role="status" tabindex={-1} data-sent>
        {t('signUpSent', { email: props.email })}
      </p>
      <form method="post" action="/signup" data-form="resend-verification">
        <FormMessages {...formErrorOf(props.state?.error)} status={props.status} />
        <input type="hidden" name="intent" value="resend" />
        <input type="hidden" name="email" value={props.email} />
        <button type="submit" class="secondary" data-busy-label={t('resendBusy')}>
          {t('resendButton')}
        </button>
      </form>
      <p class="links">
        <a href="/login">{t('backToSignIn')}</a>
      </p>
    </>
  );
}

export function ForgotForm(props: { state: FormState; linkMinutes: number }) {
  const { state } = props;
  return (
    <>
      <p>{t('forgotIntro')}</p>
      <form method="post" action="/forgot-password" data-form="forgot-password" data-link-minutes={props.linkMinutes}>
        <FormMessages {...formErrorOf(state.error)} />
        <Field
          id="email"
          label={t('emailLabel')}
          type="email"
          autocomplete="email"
          maxLength={MAX_EMAIL_LENGTH}
          value={state.values?.email}
          error={fieldError(state, 'email')}
          autofocus={!!state.error}
        />
        <SubmitButton label={t('forgotButton')} busy={t('forgotBusy')} />
      </form>
      <p class="links">
        <a href="/login">{t('backToSignIn')}</a>
      </p>
    </>
  );
}

/** "Check your email", instead of the form, once the link is on its way. */
export function ForgotSent(props: { email: string; minutes: number }) {
  return (
    <>
      <p class="form-status" role="status" tabindex={-1} data-sent>
        {t('forgotSent', { email: props.email, minutes: props.minutes })}
      </p>
      <p class="links">
        <a href={withQuery('/forgot-password', { email: props.email })}>{t('resendButton')}</a>
        <a href={withQuery('/login', { email: props.email })}>{t('backToSignIn')}</a>
      </p>
    </>
  );
}

export function ResetForm(props: { token: string; state: FormState }) {
  const { state } = props;
  return (
    <>
      <form method="post" action="/reset-password" data-form="reset-password">
        <FormMessages {...formErrorOf(state.error)} />
        <input type="hidden" name="token" value={props.token} />
        <NewPasswordField
          id="password"
          label={t('newPasswordLabel')}
          hint={t('passwordHint', { min: MIN_PASSWORD_LENGTH })}
          {...errorProps(state, 'password')}
        />
        <Field
          id="confirm"
          label={t('confirmLabel')}
          type="password"
          autocomplete="new-password"
          maxLength={MAX_PASSWORD_LENGTH}
          {...errorProps(state, 'confirm')}
        />
        <SubmitButton label={t('resetButton')} busy={t('resetBusy')} />
      </form>
      <p class="links">
        <a href="/login">{t('backToSignIn')}</a>
      </p>
    </>
  );
}

/** A reset or verification page whose link is unusable: what happened, and the way on. */
export function LinkProblem(props: { text: string; action: 'new-link' | 'account' }) {
  return (
    <>
      <div class="form-error" role="alert">
        {props.text}
      </div>
      <p>
        {props.action === 'new-link' ? (
          <a class="button block" href="/forgot-password">
            {t('askNewLink')}
          </a>
        ) : (
          <a class="button block" href="/account">
            {t('continueButton')}
          </a>
        )}
      </p>
    </>
  );
}
