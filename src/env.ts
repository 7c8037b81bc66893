import { z } from 'zod';
import type { Auth } from './auth';
import type { Database } from './db/client';
import { AppError, ErrorCode } from './errors';
import { MIN_SECRET_LENGTH } from './jwt/key-crypto';
import { JWT_ALGORITHMS, type JwtAlgorithm } from './jwt/policy';
import type { MailConfig } from './mail/mailer';
import {
  clientIdVariable,
  clientSecretVariable,
  OAUTH_PROVIDERS,
  type OAuthCredentialsByProvider,
  type OAuthProviderId,
} from './oauth/providers';
import { DEFAULT_PASSWORD_HASH_PARAMS, type PasswordHashParams, passwordHashParamsProblem } from './password';

/** The Hono environment of this app: bindings plus per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: AppConfig;
    db: Database;
    /** See DatabaseHandle.failedToReachDatabase. */
    failedToReachDatabase: () => boolean;
    auth: Auth;
    /** The validated JSON body, on routes that validate one. */
    body: Record<string, unknown> | undefined;
  };
}

/** The validated, typed view of the Worker's bindings. */
export interface AppConfig {
  databaseUrl: string;
  /** host:port of a WebSocket-to-TCP proxy; set only by local dev and tests. */
  databaseWsProxy: string | undefined;
  secret: string;
  /** The secret before the last change, kept so stored signing keys stay readable. */
  previousSecret: string | undefined;
  /** BETTER_AUTH_URL without a trailing slash: the base URL and the JWT issuer. */
  baseURL: string;
  jwtAlg: JwtAlgorithm;
  jwtAudience: string;
  /** Origins allowed to call state-changing endpoints: baseURL's origin first. */
  trustedOrigins: string[];
  /** Sign-in providers with both a client id and a secret; the others are off. */
  oauthProviders: OAuthCredentialsByProvider;
  /** Providers whose id_token a native app may sign in with (with a nonce of ours). */
  idTokenSignInProviders: OAuthProviderId[];
  /** Local benchmarks only: answer with the request's database work in Server-Timing. */
  benchDatabaseStats: boolean;
  /** scrypt cost for new password hashes (src/password.ts); old hashes keep their own. */
  passwordHash: PasswordHashParams;
  /** Sign-in waits until the email is verified (REQUIRE_EMAIL_VERIFICATION). */
  requireEmailVerification: boolean;
  /** How verification and password-reset emails go out. */
  mail: MailConfig;
}

/** Shipped in .dev.vars.example; refused so that nobody deploys it. */
const EXAMPLE_SECRET = 'replace-me-with-the-output-of-openssl-rand-base64-32';

const optional = (value: string | undefined) => (value?.trim() ? value.trim() : undefined);

/** This machine: browsers treat `localhost` and every `*.localhost` name as a secure context. */
function isLocalHost(hostname: string): boolean {
  return (
    hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '127.0.0.1' || hostname === '[::1]'
  );
}

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

const configSchema = z.object({
  DATABASE_URL: z
    .string({ error: 'is not set' })
    .trim()
    .min(1, 'is not set')
    .refine((value) => /^postgres(ql)?:\/\/[^\s]+$/.test(value), 'must be a postgres:// or postgresql:// URL'),
  // Plain WebSockets to a local proxy: only ever on this machine.
  DATABASE_WS_PROXY: z
    .string()
    .regex(/^(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$/, 'must be a loopback host:port (local development only)')
    .optional(),
  BETTER_AUTH_SECRET: z
    .string({ error: 'is not set' })
    .min(1, 'is not set')
    .min(
      MIN_SECRET_LENGTH,
      `is too weak: use at least ${MIN_SECRET_LENGTH} random characters (openssl rand -base64 32)`,
    )
    .refine((value) => value !== EXAMPLE_SECRET, 'is the placeholder from .dev.vars.example: generate your own'),
  BETTER_AUTH_PREVIOUS_SECRET: z
    .string()
    .min(MIN_SECRET_LENGTH, `is too weak: use at least ${MIN_SECRET_LENGTH} characters`)
    .optional(),
  BETTER_AUTH_URL: z.string({ error: 'is not set' }).trim().min(1, 'is not set').pipe(httpUrl),
  JWT_ALG: z.enum(JWT_ALGORITHMS, { error: `must be one of ${JWT_ALGORITHMS.join(', ')}` }).default('EdDSA'),
  JWT_AUDIENCE: z.string().optional(),
  TRUSTED_ORIGINS: originList.optional(),
  BENCH_DATABASE_STATS: z.enum(['0', '1'], { error: 'must be 0 or 1' }).optional(),
  PASSWORD_HASH_PARAMS: z
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
  REQUIRE_EMAIL_VERIFICATION: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true'),
  RESEND_API_KEY: z
    .string()
    .regex(/^re_[\w-]{8,200}$/, 'must be a Resend API key (re_...)')
    .optional(),
  // `Name <address@domain>` or a bare address; no line breaks (header injection).
  EMAIL_FROM: z
    .string()
    .regex(/^(?:[^<>\r\n"]{1,100} <[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+)$/, {
      error: 'must be an address or "Name <address@domain>"',
    })
    .optional(),
});

/**
 * Production is any BETTER_AUTH_URL that is not on localhost. There the
 * console mailer (which prints live verification and reset links) is never
 * used: without an email API, verification and password-reset emails are off
 * (the rest of the Worker is unaffected), and REQUIRE_EMAIL_VERIFICATION,
 * which could never be satisfied, is a misconfiguration.
 */
function readMailConfig(values: {
  baseURL: string;
  RESEND_API_KEY?: string | undefined;
  EMAIL_FROM?: string | undefined;
  REQUIRE_EMAIL_VERIFICATION: boolean;
}): { mail?: MailConfig; problems: string[] } {
  if (values.RESEND_API_KEY) {
    if (!values.EMAIL_FROM) return { problems: ['EMAIL_FROM is not set while RESEND_API_KEY is'] };
    return { mail: { kind: 'resend', apiKey: values.RESEND_API_KEY, from: values.EMAIL_FROM }, problems: [] };
  }
  if (isLocalHost(new URL(values.baseURL).hostname)) return { mail: { kind: 'console' }, problems: [] };
  if (values.REQUIRE_EMAIL_VERIFICATION) {
    return {
      problems: [
        'RESEND_API_KEY is not set: REQUIRE_EMAIL_VERIFICATION needs an email API outside localhost (the development mailer runs on localhost only)',
      ],
    };
  }
  return { mail: { kind: 'none' }, problems: [] };
}

/**
 * A provider is on when both of its variables are set and off when neither is.
 * One without the other is a mistake (a secret not yet put, a typo in a name)
 * that would otherwise surface as a provider silently missing.
 */
function readOAuthProviders(vars: Record<string, string | undefined>): {
  providers: OAuthCredentialsByProvider;
  problems: string[];
} {
  const providers: OAuthCredentialsByProvider = {};
  const problems: string[] = [];
  for (const provider of OAUTH_PROVIDERS) {
    const idVariable = clientIdVariable(provider);
    const secretVariable = clientSecretVariable(provider);
    const clientId = optional(vars[idVariable]);
    const clientSecret = optional(vars[secretVariable]);
    if (clientId && clientSecret) {
      providers[provider.id] = { clientId, clientSecret };
    } else if (clientId || clientSecret) {
      const [missing, present] = clientId ? [secretVariable, idVariable] : [idVariable, secretVariable];
      problems.push(
        `${missing} is not set while ${present} is: set both to offer ${provider.name} sign-in, or neither`,
      );
    }
  }
  return { providers, problems };
}

/** ID_TOKEN_SIGN_IN_PROVIDERS: configured providers that issue id_tokens, or a problem naming the entry. */
function readIdTokenSignInProviders(
  value: string | undefined,
  configured: OAuthCredentialsByProvider,
): { providers: OAuthProviderId[]; problems: string[] } {
  const providers: OAuthProviderId[] = [];
  const problems: string[] = [];
  for (const name of (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
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
  return { providers, problems };
}

const configCache = new WeakMap<object, AppConfig>();

/**
 * Validates the bindings once per `env` object (Workers reuse it across
 * requests in an isolate). Throws an AppError SERVER_MISCONFIGURED that names
 * the variable, never its value.
 */
export function readConfig(env: Env): AppConfig {
  const cached = configCache.get(env);
  if (cached) return cached;

  const vars = env as unknown as Record<string, string | undefined>;
  const parsed = configSchema.safeParse({
    DATABASE_URL: vars.DATABASE_URL,
    DATABASE_WS_PROXY: optional(vars.DATABASE_WS_PROXY),
    BETTER_AUTH_SECRET: vars.BETTER_AUTH_SECRET,
    BETTER_AUTH_PREVIOUS_SECRET: optional(vars.BETTER_AUTH_PREVIOUS_SECRET),
    BETTER_AUTH_URL: vars.BETTER_AUTH_URL,
    JWT_ALG: optional(vars.JWT_ALG),
    JWT_AUDIENCE: optional(vars.JWT_AUDIENCE),
    TRUSTED_ORIGINS: optional(vars.TRUSTED_ORIGINS),
    BENCH_DATABASE_STATS: optional(vars.BENCH_DATABASE_STATS),
    PASSWORD_HASH_PARAMS: optional(vars.PASSWORD_HASH_PARAMS)?.replace(/\s+/g, ''),
    REQUIRE_EMAIL_VERIFICATION: optional(vars.REQUIRE_EMAIL_VERIFICATION),
    RESEND_API_KEY: optional(vars.RESEND_API_KEY),
    EMAIL_FROM: optional(vars.EMAIL_FROM),
  });
  const oauth = readOAuthProviders(vars);
  const idTokenSignIn = readIdTokenSignInProviders(optional(vars.ID_TOKEN_SIGN_IN_PROVIDERS), oauth.providers);
  const mail = parsed.success
    ? readMailConfig({ ...parsed.data, baseURL: parsed.data.BETTER_AUTH_URL })
    : { mail: undefined, problems: [] };
  const problems = [
    ...(parsed.error?.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`) ?? []),
    ...oauth.problems,
    ...idTokenSignIn.problems,
    ...mail.problems,
  ];
  // Query counts in a response header tell a stranger what a request did:
  // refused anywhere but a local benchmark.
  if (parsed.data?.BENCH_DATABASE_STATS === '1' && !isLocalHost(new URL(parsed.data.BETTER_AUTH_URL).hostname)) {
    problems.push('BENCH_DATABASE_STATS is for local benchmarks only (BETTER_AUTH_URL must be localhost)');
  }
  // A deployment that lost the binding (a wrangler.toml [env] section does not
  // inherit it) would otherwise run without rate limits.
  if (!(env as { RATE_LIMITER?: unknown }).RATE_LIMITER) problems.push('the RATE_LIMITER binding is missing');
  if (!parsed.success || !mail.mail || problems.length > 0) {
    throw new AppError(500, ErrorCode.SERVER_MISCONFIGURED, `Server misconfigured: ${problems.join('; ')}.`);
  }

  const values = parsed.data;
  const baseURL = values.BETTER_AUTH_URL.replace(/\/+$/, '');
  const config: AppConfig = {
    databaseUrl: values.DATABASE_URL,
    databaseWsProxy: values.DATABASE_WS_PROXY,
    secret: values.BETTER_AUTH_SECRET,
    previousSecret: values.BETTER_AUTH_PREVIOUS_SECRET,
    baseURL,
    jwtAlg: values.JWT_ALG,
    jwtAudience: values.JWT_AUDIENCE ?? baseURL,
    trustedOrigins: [...new Set([new URL(baseURL).origin, ...(values.TRUSTED_ORIGINS ?? [])])],
    oauthProviders: oauth.providers,
    idTokenSignInProviders: idTokenSignIn.providers,
    benchDatabaseStats: values.BENCH_DATABASE_STATS === '1',
    passwordHash: values.PASSWORD_HASH_PARAMS ?? DEFAULT_PASSWORD_HASH_PARAMS,
    requireEmailVerification: values.REQUIRE_EMAIL_VERIFICATION,
    mail: mail.mail,
  };
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
