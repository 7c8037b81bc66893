/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import { OAUTH_PROVIDERS, type OAuthCredentialsByProvider } from '../oauth/providers';

/** `wide`: room for lists and several sections (the admin page). */
export function Layout(props: { title: string; wide?: boolean; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{`${props.title} · auth-worker`}</title>
        <link rel="stylesheet" href="/assets/pages.css" />
        <script src="/assets/pages.js" defer />
      </head>
      <body>
        <main class={props.wide ? 'card wide' : 'card'}>
          <h1>{props.title}</h1>
          {props.children}
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
}

/** A labelled input whose error (and hint) screen readers read with it. */
export function Field(props: FieldProps) {
  const describedBy = [props.hint ? `${props.id}-hint` : '', `${props.id}-error`].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      <input
        id={props.id}
        name={props.id}
        type={props.type}
        autocomplete={props.autocomplete}
        required
        minlength={props.minLength}
        maxlength={props.maxLength}
        aria-describedby={describedBy}
      />
      <p class="field-error" id={`${props.id}-error`} />
    </div>
  );
}

/** Where form-wide errors (wrong password, rate limits) and confirmations appear. */
export function FormMessages() {
  return (
    <>
      <div class="form-error" role="alert" tabindex={-1} data-form-error hidden />
      <div class="form-status" role="status" tabindex={-1} data-form-status hidden />
    </>
  );
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
          Continue with {name}
        </a>
      ))}
      <p class="divider">
        <span>or</span>
      </p>
    </div>
  );
}
