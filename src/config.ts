import { z } from 'zod';
import { DEFAULT_AUDIT_RETENTION_DAYS, MAX_AUDIT_RETENTION_DAYS } from './audit/events';
import { AppError, ErrorCode } from './errors';
import { MIN_SECRET_LENGTH } from './jwt/key-crypto';
import { JWT_ALGORITHMS } from './jwt/policy';
import type { MailConfig } from './mail/mailer';
import {
  clientIdVariable,
  clientSecretVariable,
  OAUTH_PROVIDERS,
  type OAuthCredentialsByProvider,
  type OAuthProviderId,
} from './oauth/providers';
import { ACCENT_TEXT_COLOUR, contrastRatio, MIN_TEXT_CONTRAST, normalizeHexColour } from './pages/contrast';
import { DEFAULT_PASSWORD_HASH_PARAMS, passwordHashParamsProblem } from './password';

// The one validated view of the Worker's bindings. Each variable is written
// once: its schema below, whose output *is* AppConfig. This module imports
// only leaf modules (constants and tables that import nothing of the app), so
// every other module may depend on it and none of them is depended on by it.

/** Shipped in .dev.vars.example; refused so that nobody deploys it. */
const EXAMPLE_SECRET = 'replace-me-with-the-output-of-openssl-rand-base64-32';

/** This machine: browsers treat `localhost` and every `*.localhost` name as a secure context. */
function isLocalHost(hostname: string): boolean {
  return (
    hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '127.0.0.1' || hostname === '[::1]'
  );
}

/** An unset variable and an empty one mean the same: not set. */
const unset = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

/** An optional string variable, trimmed; empty is unset. */
const optionalText = z.preprocess(unset, z.string().trim().optional());

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL', abort: true })
  .refine((value) => {
    const url = new URL(value);
    return url.protocol === 'https:' || isLocalHost(url.hostname);
  }, 'must use https (plain http is allowed for localhost only)');

const originList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  )
  .pipe(z.array(httpUrl.transform((value) => new URL(value).origin)));

const commaList = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

/** `<PREFIX>_CLIENT_ID` and `<PREFIX>_CLIENT_SECRET` of every provider in the table. */
const providerVariables = Object.fromEntries(
  OAUTH_PROVIDERS.flatMap((provider) => [
    [clientIdVariable(provider), optionalText],
    [clientSecretVariable(provider), optionalText],
  ]),
);

/** The product name on the pages and in the emails when APP_NAME is unset. */
export const DEFAULT_APP_NAME = 'auth-worker';

/** Longest APP_NAME: it goes into page titles and email subjects. */
const MAX_APP_NAME_LENGTH = 60;

/** A local proxy's loopback host:port, and its per-run secret as the path segment. */
const localProxy = z.preprocess(
  unset,
  z
    .string()
    .trim()
    .regex(
      /^(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}(\/[A-Za-z0-9_-]+)?$/,
      'must be a loopback host:port[/secret] (local development only)',
    )
    .optional(),
);

/** A Workers Rate Limiting binding (wrangler.toml `[[ratelimits]]`). */
const rateLimitBinding = z.custom<RateLimit>(
  (value) => typeof (value as { limit?: unknown } | null | undefined)?.limit === 'function',
  { error: 'binding is missing' },
);

const bindingsSchema = z.object({
  DATABASE_URL: z
    .string({ error: 'is not set' })
    .trim()
    .min(1, 'is not set')
    .refine((value) => /^postgres(ql)?:\/\/[^\s]+$/.test(value), 'must be a postgres:// or postgresql:// URL'),
  // Plain WebSockets to a local proxy: only ever on this machine. The path
  // segment is the proxy's per-run secret (scripts/lib/ws-proxy.ts).
  DATABASE_WS_PROXY: localProxy,
  // Plain HTTP to the local endpoint that serves Neon's HTTP query protocol
  // (scripts/lib/sql-over-http.ts): only ever on this machine, with its secret.
  DATABASE_HTTP_PROXY: localProxy,
  BETTER_AUTH_SECRET: z
    .string({ error: 'is not set' })
    .min(1, 'is not set')
    .min(
      MIN_SECRET_LENGTH,
      `is too weak: use at least ${MIN_SECRET_LENGTH} random characters (openssl rand -base64 32)`,
    )
    .refine((value) => value !== EXAMPLE_SECRET, 'is the placeholder from .dev.vars.example: generate your own'),
  BETTER_AUTH_PREVIOUS_SECRET: z.preprocess(
    unset,
    z.string().min(MIN_SECRET_LENGTH, `is too weak: use at least ${MIN_SECRET_LENGTH} characters`).optional(),
  ),
  BETTER_AUTH_URL: z.string({ error: 'is not set' }).trim().min(1, 'is not set').pipe(httpUrl),
  JWT_ALG: z.preprocess(
    unset,
    z.enum(JWT_ALGORITHMS, { error: `must be one of ${JWT_ALGORITHMS.join(', ')}` }).default('EdDSA'),
  ),
  JWT_AUDIENCE: optionalText,
  TRUSTED_ORIGINS: z.preprocess(unset, originList.optional()),
  ID_TOKEN_SIGN_IN_PROVIDERS: z.preprocess(unset, commaList.optional()),
  BENCH_DATABASE_STATS: z.preprocess(unset, z.enum(['0', '1'], { error: 'must be 0 or 1' }).optional()),
  PASSWORD_HASH_PARAMS: z.preprocess(
    (value) => (typeof unset(value) === 'string' ? (value as string).replace(/\s+/g, '') : undefined),
    z
      .string()
      .regex(/^N=\d+,r=\d+,p=\d+$/, 'must look like N=16384,r=16,p=1')
      .transform((value, ctx) => {
        const [N = 0, r = 0, p = 0] = value.match(/\d+/g)?.map(Number) ?? [];
        const problem = passwordHashParamsProblem({ N, r, p });
        if (!problem) return { N, r, p };
        ctx.issues.push({ code: 'custom', message: problem, input: value });
        return z.NEVER;
      })
      .optional(),
  ),
  REQUIRE_EMAIL_VERIFICATION: z.preprocess(
    unset,
    z
      .enum(['true', 'false'], { error: 'must be true or false' })
      .default('false')
      .transform((value) => value === 'true'),
  ),
  ADMIN_IMPERSONATION: z.preprocess(
    unset,
    z
      .enum(['true', 'false'], { error: 'must be true or false' })
      .default('false')
      .transform((value) => value === 'true'),
  ),
  AUDIT_RETENTION_DAYS: z.preprocess(
    unset,
    z.coerce
      .number({ error: 'must be a whole number of days' })
      .int('must be a whole number of days')
      .min(1, 'must be at least 1')
      .max(MAX_AUDIT_RETENTION_DAYS, `must be at most ${MAX_AUDIT_RETENTION_DAYS}`)
      .default(DEFAULT_AUDIT_RETENTION_DAYS),
  ),
  RESEND_API_KEY: z.preprocess(
    unset,
    z
      .string()
      .trim()
      .regex(/^re_[\w-]{8,200}$/, 'must be a Resend API key (re_...)')
      .optional(),
  ),
  // `Name <address@domain>` or a bare address; no line breaks (header injection).
  EMAIL_FROM: z.preprocess(
    unset,
    z
      .string()
      .trim()
      .regex(/^(?:[^<>\r\n"]{1,100} <[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+)$/, {
        error: 'must be an address or "Name <address@domain>"',
      })
      .optional(),
  ),
  // A deployment that lost the binding (a wrangler.toml [env] section does not
  // inherit it) would otherwise run without rate limits.
  RATE_LIMITER: z.custom<DurableObjectNamespace>((value) => value !== undefined && value !== null, {
    error: 'binding is missing',
  }),
  // Token issuance is limited by these (src/rate-limit.ts); without them every
  // token request would fail on a missing binding instead of naming it here.
  TOKEN_IP_LIMIT: rateLimitBinding,
  TOKEN_SESSION_LIMIT: rateLimitBinding,
  // In titles, headings and email subjects: one line, no markup characters
  // (the pages escape them anyway; a subject has no escaping).
  APP_NAME: z.preprocess(
    unset,
    z
      .string()
      .trim()
      .max(MAX_APP_NAME_LENGTH, `must be at most ${MAX_APP_NAME_LENGTH} characters`)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: line breaks would end an email subject
      .regex(/^[^\u0000-\u001f\u007f<>]+$/, 'must be one line without < or >')
      .default(DEFAULT_APP_NAME),
  ),
  // Checked against BETTER_AUTH_URL's origin in toAppConfig: the pages' CSP loads images from there only.
  LOGO_URL: optionalText,
  ACCENT_COLOR: z.preprocess(
    unset,
    z
      .string()
      .transform((value, ctx) => {
        const colour = normalizeHexColour(value);
        if (!colour) {
          ctx.issues.push({ code: 'custom', message: 'must be a hex colour like #1f5fbf', input: value });
          return z.NEVER;
        }
        const ratio = contrastRatio(colour, ACCENT_TEXT_COLOUR);
        if (ratio < MIN_TEXT_CONTRAST) {
          ctx.issues.push({
            code: 'custom',
            message: `${colour} has a contrast of ${ratio.toFixed(2)}:1 with the white text of buttons; at least ${MIN_TEXT_CONTRAST}:1 is needed (WCAG 1.4.3): choose a darker colour`,
            input: value,
          });
          return z.NEVER;
        }
        return colour;
      })
      .optional(),
  ),
  SUPPORT_URL: z.preprocess(
    unset,
    z
      .string()
      .trim()
      .refine((value) => {
        if (/^mailto:[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+$/.test(value)) return true;
        try {
          return new URL(value).protocol === 'https:';
        } catch {
          return false;
        }
      }, 'must be an https URL or a mailto: address')
      .optional(),
  ),
  SHOW_TOKEN_TOOL: z.preprocess(
    unset,
    z
      .enum(['true', 'false'], { error: 'must be true or false' })
      .transform((value) => value === 'true')
      .optional(),
  ),
  ...providerVariables,
});

type Bindings = z.output<typeof bindingsSchema>;

/**
 * A provider is on when both of its variables are set and off when neither is.
 * One without the other is a mistake (a secret not yet put, a typo in a name)
 * that would otherwise surface as a provider silently missing.
 */
function readOAuthProviders(values: Bindings, problems: string[]): OAuthCredentialsByProvider {
  const providers: OAuthCredentialsByProvider = {};
  const read = (name: string) => (values as Record<string, unknown>)[name] as string | undefined;
  for (const provider of OAUTH_PROVIDERS) {
    const [idVariable, secretVariable] = [clientIdVariable(provider), clientSecretVariable(provider)];
    const [clientId, clientSecret] = [read(idVariable), read(secretVariable)];
    if (clientId && clientSecret) {
      providers[provider.id] = { clientId, clientSecret };
    } else if (clientId || clientSecret) {
      const [missing, present] = clientId ? [secretVariable, idVariable] : [idVariable, secretVariable];
      problems.push(
        `${missing} is not set while ${present} is: set both to offer ${provider.name} sign-in, or neither`,
      );
    }
  }
  return providers;
}

/** ID_TOKEN_SIGN_IN_PROVIDERS: configured providers that issue id_tokens. */
function readIdTokenSignInProviders(
  names: string[],
  configured: OAuthCredentialsByProvider,
  problems: string[],
): OAuthProviderId[] {
  const providers: OAuthProviderId[] = [];
  for (const name of names) {
    const provider = OAUTH_PROVIDERS.find(({ id }) => id === name);
    if (!provider?.issuesIdTokens) {
      const eligible = OAUTH_PROVIDERS.filter(({ issuesIdTokens }) => issuesIdTokens).map(({ id }) => id);
      problems.push(`ID_TOKEN_SIGN_IN_PROVIDERS names "${name}": only ${eligible.join(', ')} issue id_tokens`);
    } else if (!configured[provider.id]) {
      problems.push(
        `ID_TOKEN_SIGN_IN_PROVIDERS names ${provider.id}, which is not configured (${clientIdVariable(provider)})`,
      );
    } else {
      providers.push(provider.id);
    }
  }
  return providers;
}

/**
 * Production is any BETTER_AUTH_URL that is not on localhost. There the
 * console mailer (which prints live verification and reset links) is never
 * used: without an email API, verification and password-reset emails are off
 * (the rest of the Worker is unaffected), and REQUIRE_EMAIL_VERIFICATION,
 * which could never be satisfied, is a misconfiguration.
 */
function readMailConfig(values: Bindings, problems: string[]): MailConfig {
  if (values.RESEND_API_KEY) {
    if (!values.EMAIL_FROM) problems.push('EMAIL_FROM is not set while RESEND_API_KEY is');
    return { kind: 'resend', apiKey: values.RESEND_API_KEY, from: values.EMAIL_FROM ?? '' };
  }
  if (isLocalHost(new URL(values.BETTER_AUTH_URL).hostname)) return { kind: 'console' };
  if (values.REQUIRE_EMAIL_VERIFICATION) {
    problems.push(
      'RESEND_API_KEY is not set: REQUIRE_EMAIL_VERIFICATION needs an email API outside localhost (the development mailer runs on localhost only)',
    );
  }
  return { kind: 'none' };
}

/**
 * LOGO_URL: a path on this Worker's origin, or an absolute URL on it. The
 * pages' Content-Security-Policy loads images from their own origin only,
 * and a logo from elsewhere would tell that host who opens a reset link.
 */
function readLogoUrl(value: string | undefined, baseURL: string, problems: string[]): string | undefined {
  if (!value) return undefined;
  const origin = new URL(baseURL).origin;
  let url: URL | undefined;
  try {
    url = new URL(value, origin);
  } catch {
    url = undefined;
  }
  if (!url || url.origin !== origin || value.startsWith('//') || /[\s\\]/.test(value)) {
    problems.push(`LOGO_URL must be a path (/logo.svg) or a URL on BETTER_AUTH_URL's origin (${origin})`);
    return undefined;
  }
  return value.startsWith('/') ? `${url.pathname}${url.search}` : url.href;
}

/** The bindings as the app uses them; each field comes from the variable named beside it. */
function toAppConfig(values: Bindings, problems: string[]) {
  const baseURL = values.BETTER_AUTH_URL.replace(/\/+$/, '');
  const oauthProviders = readOAuthProviders(values, problems);
  // Query counts in a response header tell a stranger what a request did:
  // refused anywhere but a local benchmark.
  if (values.BENCH_DATABASE_STATS === '1' && !isLocalHost(new URL(baseURL).hostname)) {
    problems.push('BENCH_DATABASE_STATS is for local benchmarks only (BETTER_AUTH_URL must be localhost)');
  }
  return {
    database: {
      /** DATABASE_URL */
      url: values.DATABASE_URL,
      /** DATABASE_WS_PROXY: host:port/secret of a WebSocket-to-TCP proxy; set only by local dev and tests. */
      wsProxy: values.DATABASE_WS_PROXY,
      /** DATABASE_HTTP_PROXY: host:port/secret of a local endpoint for Neon's HTTP query path; set only by local dev and tests. */
      httpProxy: values.DATABASE_HTTP_PROXY,
    },
    /** BETTER_AUTH_SECRET */
    secret: values.BETTER_AUTH_SECRET,
    /** BETTER_AUTH_PREVIOUS_SECRET: kept while the secret changes, so stored signing keys stay readable. */
    previousSecret: values.BETTER_AUTH_PREVIOUS_SECRET,
    /** BETTER_AUTH_URL without a trailing slash: the base URL and the JWT issuer. */
    baseURL,
    /** JWT_ALG */
    jwtAlg: values.JWT_ALG,
    /** JWT_AUDIENCE, BETTER_AUTH_URL by default. */
    jwtAudience: values.JWT_AUDIENCE ?? baseURL,
    /** TRUSTED_ORIGINS: origins allowed to call the API from a browser; BETTER_AUTH_URL's origin first. */
    trustedOrigins: [...new Set([new URL(baseURL).origin, ...(values.TRUSTED_ORIGINS ?? [])])],
    /** <PROVIDER>_CLIENT_ID and _SECRET: providers with both are on, the others off. */
    oauthProviders,
    /** ID_TOKEN_SIGN_IN_PROVIDERS: providers whose id_token a native app may sign in with (with a nonce of ours). */
    idTokenSignInProviders: readIdTokenSignInProviders(
      values.ID_TOKEN_SIGN_IN_PROVIDERS ?? [],
      oauthProviders,
      problems,
    ),
    /** BENCH_DATABASE_STATS: local benchmarks only, the request's database work in Server-Timing. */
    benchDatabaseStats: values.BENCH_DATABASE_STATS === '1',
    /** PASSWORD_HASH_PARAMS: scrypt cost for new password hashes (src/password.ts); old hashes keep their own. */
    passwordHash: values.PASSWORD_HASH_PARAMS ?? DEFAULT_PASSWORD_HASH_PARAMS,
    /** REQUIRE_EMAIL_VERIFICATION: no session until the email is verified, for every way in. */
    requireEmailVerification: values.REQUIRE_EMAIL_VERIFICATION,
    /** ADMIN_IMPERSONATION: admins may open a session as another user (marked and audited); off by default. */
    adminImpersonation: values.ADMIN_IMPERSONATION,
    /** AUDIT_RETENTION_DAYS: audit events older than this are deleted by the cron. */
    auditRetentionDays: values.AUDIT_RETENTION_DAYS,
    /** RESEND_API_KEY and EMAIL_FROM: how verification and password-reset emails go out. */
    mail: readMailConfig(values, problems),
    /** How the pages and emails look and whom they name (src/pages/brand.ts). */
    brand: {
      /** APP_NAME: in page titles and headings, email subjects and bodies, Better Auth's appName, the authenticator apps' issuer and the passkey relying party's name. */
      appName: values.APP_NAME,
      /** LOGO_URL: same-origin image above each page's heading; none by default. */
      logoUrl: readLogoUrl(values.LOGO_URL, baseURL, problems),
      /** ACCENT_COLOR: buttons and links, checked for contrast with their white text. */
      accentColour: values.ACCENT_COLOR,
      /** SUPPORT_URL: "Contact support" under each page, and in the emails. */
      supportUrl: values.SUPPORT_URL,
    },
    /** SHOW_TOKEN_TOOL: "Token for your backend" on /account; on by default for a localhost BETTER_AUTH_URL only. */
    showTokenTool: values.SHOW_TOKEN_TOOL ?? isLocalHost(new URL(baseURL).hostname),
  };
}

export type AppConfig = ReturnType<typeof toAppConfig>;
export type DatabaseSettings = AppConfig['database'];

const configCache = new WeakMap<object, AppConfig>();

/**
 * Validates the bindings once per `env` object (Workers reuse it across
 * requests in an isolate). Throws an AppError SERVER_MISCONFIGURED that names
 * the variable, never its value.
 */
export function readConfig(env: Env): AppConfig {
  const cached = configCache.get(env);
  if (cached) return cached;

  const parsed = bindingsSchema.safeParse(env);
  const problems = parsed.error?.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`) ?? [];
  const config = parsed.success ? toAppConfig(parsed.data, problems) : undefined;
  if (!config || problems.length > 0) {
    throw new AppError(500, ErrorCode.SERVER_MISCONFIGURED, `Server misconfigured: ${problems.join('; ')}.`);
  }
  if (config.mail.kind === 'none') {
    console.warn(
      JSON.stringify({
        level: 'warn',
        event: 'email_off',
        message: 'No RESEND_API_KEY: verification and reset emails are off.',
      }),
    );
  }
  configCache.set(env, config);
  return config;
}
