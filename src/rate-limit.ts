import { DurableObject } from 'cloudflare:workers';
import type { Context, MiddlewareHandler } from 'hono';
import { SYSTEM_ACTOR } from './audit/events';
import { clientIp, ipv6Prefix, isIpv6 } from './client-address';
import { sha256Hex } from './digest';
import { AppError, ErrorCode } from './errors';
import type { AppEnv } from './request-context';

// Rate limits shared by every isolate and location: one Durable Object per
// limited key (rule + client network, or rule + account) counts attempts in a
// fixed window. A Durable Object runs one request at a time, so counting is
// atomic, and abusive traffic never reaches Postgres. Better Auth's own
// limiter keeps its counts in isolate memory, which limits nothing across the
// fleet.

interface Window {
  startedAt: number;
  count: number;
  /** A request of this window was refused already. */
  refused?: boolean;
}

export interface LimitDecision {
  allowed: boolean;
  retryAfterSeconds: number;
  /** The first refusal of the window: the moment an account is locked. */
  firstRefusal?: boolean;
}

export class RateLimiter extends DurableObject {
  /** Counts one attempt; refuses it once `limit` attempts fell in the current window. */
  async attempt(limit: number, windowMs: number): Promise<LimitDecision> {
    const now = Date.now();
    let window = await this.ctx.storage.get<Window>('window');
    if (!window || now >= window.startedAt + windowMs) window = { startedAt: now, count: 0 };
    const retryAfterSeconds = Math.max(1, Math.ceil((window.startedAt + windowMs - now) / 1000));
    if (window.count >= limit) {
      if (window.refused) return { allowed: false, retryAfterSeconds };
      await this.ctx.storage.put('window', { ...window, refused: true });
      return { allowed: false, retryAfterSeconds, firstRefusal: true };
    }
    window.count++;
    await this.ctx.storage.put('window', window);
    // Let an idle key's storage go once its window is over.
    await this.ctx.storage.setAlarm(window.startedAt + windowMs);
    return { allowed: true, retryAfterSeconds };
  }

  /** Gives back one attempt of the current window (one that turned out not to count). */
  async refund(): Promise<void> {
    const window = await this.ctx.storage.get<Window>('window');
    if (window && window.count > 0) await this.ctx.storage.put('window', { ...window, count: window.count - 1 });
  }

  /**
   * Takes `value` for `ttlMs` (a TOTP code that completed a check): false if
   * it is taken already. One request at a time, so two racing claims of one
   * value cannot both win.
   */
  async claim(value: string, ttlMs: number): Promise<boolean> {
    const key = `claim:${value}`;
    const now = Date.now();
    const until = await this.ctx.storage.get<number>(key);
    if (until !== undefined && until > now) return false;
    await this.ctx.storage.put(key, now + ttlMs);
    // Every claim ends by then (later claims end later): let the storage go.
    await this.ctx.storage.setAlarm(now + ttlMs);
    return true;
  }

  /** Gives a claim back (the check it was taken for failed). */
  async release(value: string): Promise<void> {
    await this.ctx.storage.delete(`claim:${value}`);
  }

  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }
}

export interface Limit {
  limit: number;
  windowSeconds: number;
}

/** Workers Rate Limiting bindings (wrangler.toml `[[ratelimits]]`). */
type InLocationLimiter = 'TOKEN_IP_LIMIT' | 'TOKEN_SESSION_LIMIT';

export interface RateLimitRule {
  /** Names the counter: the same name means the same budget. */
  name: string;
  /**
   * Counted by these Workers Rate Limiting bindings instead of the Durable
   * Object: in the location, with no network call, and approximate. Only for
   * a hot path whose limit is about volume, not guessing; each binding's limit
   * and period in wrangler.toml are the Limit below.
   */
  inLocation?: { perIp: InLocationLimiter; perAccount: InLocationLimiter };
  perIp: Limit;
  perAccount?: Limit & {
    /**
     * Every account key the request presents; each is checked. May read the
     * session (one query) for endpoints that act on the signed-in account.
     */
    keys: (c: Context<AppEnv>) => string[] | Promise<string[]>;
    /**
     * Count only attempts whose answer says the secret was wrong: each attempt
     * is counted up front, so a burst cannot slip past the limit, and given
     * back when it was not a wrong guess, so the owner's own successes never
     * lock the account.
     */
    countOnly?: (status: number) => boolean;
    /**
     * For limits that lock an account (password checks): what the key names.
     * The first refusal of each window is audited as `rate_limited`, once,
     * however many requests the lock then turns away.
     */
    locks?: 'email' | 'user';
  };
}

const MINUTE = 60;

/** The account an email-based request is about; the body was validated and normalized already. */
const emailInBody = (c: Context<AppEnv>) => {
  const email = c.get('body')?.email;
  return typeof email === 'string' ? [email] : [];
};

const SESSION_COOKIE = /(?:^|;\s*)(?:__Secure-)?better-auth\.session_token=([^;]*)/g;

/** The values of every session cookie in a Cookie header (a browser sends one). */
export function sessionCookiesIn(cookieHeader: string | undefined): string[] {
  return [...(cookieHeader ?? '').matchAll(SESSION_COOKIE)].map((match) => match[1] ?? '');
}

/**
 * Every session credential presented, read the way Better Auth reads them
 * (scheme in any case, padding trimmed, URL-decoded, the signature after the
 * dot dropped), so that decorating a token does not make it a new key.
 */
function sessionCredentials(c: Context<AppEnv>): string[] {
  const presented: string[] = [];
  const bearer = c.req.header('authorization')?.match(/^\s*bearer\s+(.+)$/i)?.[1];
  if (bearer) presented.push(bearer);
  presented.push(...sessionCookiesIn(c.req.header('cookie')));
  const tokens = presented.map((value) => {
    let decoded = value.trim();
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      // keep it as sent
    }
    return decoded.split('.')[0]?.trim() ?? '';
  });
  return [...new Set(tokens.filter(Boolean))];
}

/** The signed-in user of a request that acts on its own account (read once, here). */
async function signedInUser(c: Context<AppEnv>): Promise<string[]> {
  const result = await c.var.auth.api.getSession({ headers: c.req.raw.headers, query: { disableRefresh: true } });
  return result ? [result.user.id] : [];
}

/**
 * A cookie's value read the way Better Auth reads it (better-call's cookie
 * parser, behind `ctx.getSignedCookie`): names trimmed, the first of a name
 * wins, surrounding quotes dropped, URL-decoded. Read any other way, a
 * disguised cookie (`name ="…"`) names no account here while Better Auth
 * still finds the pending sign-in.
 */
function cookieAsBetterAuthReadsIt(header: string, name: string): string | undefined {
  for (const chunk of header.split(';')) {
    const equals = chunk.indexOf('=');
    if (equals === -1 || chunk.slice(0, equals).trim() !== name) continue;
    let value = chunk.slice(equals + 1).trim();
    if (value.codePointAt(0) === 34) value = value.slice(1, -1);
    try {
      return value.includes('%') ? decodeURIComponent(value) : value;
    } catch {
      return value;
    }
  }
  return undefined;
}

/**
 * The account a two-factor code is for: the signed-in user (a code that turns
 * two-factor on), or the user of the pending sign-in that the two-factor
 * cookie names (one query, on a path that is never hot). The cookie's value
 * is Better Auth's random identifier and its signature; only the identifier
 * is looked up, so a forged cookie finds nothing, and Better Auth refuses it.
 */
async function twoFactorAccount(c: Context<AppEnv>): Promise<string[]> {
  // Both, when both are sent: a made-up session cookie beside a pending
  // sign-in's cookie must not leave the pending account uncounted.
  const accounts = new Set(sessionCredentials(c).length > 0 ? await signedInUser(c) : []);
  const pending = await pendingSignInUser(c);
  if (pending) accounts.add(pending);
  return [...accounts];
}

/** The user of the pending sign-in the request's two-factor cookie names, if it is live. */
export async function pendingSignInUser(c: Context<AppEnv>): Promise<string | undefined> {
  const context = await c.var.auth.$context;
  // The name Better Auth reads (with the __Secure- prefix on https), not any look-alike.
  const name = context.createAuthCookie('two_factor').name;
  const signed = cookieAsBetterAuthReadsIt(c.req.header('cookie') ?? '', name);
  if (!signed) return undefined;
  const identifier = signed.slice(0, Math.max(0, signed.lastIndexOf('.')));
  if (!identifier) return undefined;
  const pending = await context.internalAdapter.findVerificationValue(identifier);
  return pending && pending.expiresAt > new Date() ? pending.value : undefined;
}

/** Sign-in answers a wrong password with 401. */
const wrongSignIn = (status: number) => status === 401;
/** Two-factor answers a wrong code (TOTP or backup) with 401 INVALID_CODE or INVALID_BACKUP_CODE. */
const wrongCode = (status: number) => status === 401;
/** Endpoints behind a session answer a wrong password with 400 INVALID_PASSWORD (the body was validated before). */
const wrongPasswordCheck = (status: number) => status === 400 || status === 401;

export const RATE_LIMITS = {
  signIn: {
    name: 'sign-in',
    perIp: { limit: 30, windowSeconds: MINUTE },
    perAccount: { limit: 10, windowSeconds: 15 * MINUTE, keys: emailInBody, countOnly: wrongSignIn, locks: 'email' },
  },
  // Any endpoint that checks the password (or, later, a one-time code) of a
  // signed-in account: a stolen session must not become a password oracle.
  passwordCheck: {
    name: 'password-check',
    perIp: { limit: 30, windowSeconds: MINUTE },
    perAccount: {
      limit: 10,
      windowSeconds: 15 * MINUTE,
      keys: signedInUser,
      countOnly: wrongPasswordCheck,
      locks: 'user',
    },
  },
  // Six digits after the password, and backup codes, share one budget per
  // account (TOTP and backup codes alike) and per client: 5 wrong codes per
  // account in 15 minutes is at most 480 guesses a day against about three
  // valid codes in a million, so a guess succeeds once in about two years
  // (docs/passkeys-and-two-factor.md). Better Auth adds its own: 5 tries per
  // pending sign-in, and 10 consecutive failures lock the account 15 minutes.
  twoFactorCode: {
    name: 'two-factor-code',
    perIp: { limit: 20, windowSeconds: MINUTE },
    perAccount: { limit: 5, windowSeconds: 15 * MINUTE, keys: twoFactorAccount, countOnly: wrongCode, locks: 'user' },
  },
  // Each call stores a challenge row: bounded per client, like provider sign-ins.
  passkeyChallenge: {
    name: 'passkey-challenge',
    perIp: { limit: 30, windowSeconds: MINUTE },
  },
  // A signature cannot be guessed; the limit bounds the work per client.
  passkeySignIn: {
    name: 'passkey-sign-in',
    perIp: { limit: 30, windowSeconds: MINUTE },
  },
  // Adding, renaming and removing a signed-in user's passkeys.
  passkeyManage: {
    name: 'passkey-manage',
    perIp: { limit: 60, windowSeconds: MINUTE },
    perAccount: { limit: 30, windowSeconds: MINUTE, keys: sessionCredentials },
  },
  signUp: {
    name: 'sign-up',
    perIp: { limit: 10, windowSeconds: 10 * MINUTE },
    perAccount: { limit: 3, windowSeconds: 10 * MINUTE, keys: emailInBody },
  },
  passwordResetRequest: {
    name: 'password-reset-request',
    perIp: { limit: 5, windowSeconds: 15 * MINUTE },
    perAccount: { limit: 3, windowSeconds: 60 * MINUTE, keys: emailInBody },
  },
  // Each request sends an email: without a limit, a way to flood an inbox.
  verificationEmail: {
    name: 'verification-email',
    perIp: { limit: 5, windowSeconds: 15 * MINUTE },
    perAccount: { limit: 3, windowSeconds: 60 * MINUTE, keys: emailInBody },
  },
  passwordReset: {
    name: 'password-reset',
    perIp: { limit: 10, windowSeconds: 15 * MINUTE },
  },
  // A token is a hot path: counted in the location, no Durable Object call.
  token: {
    name: 'token',
    inLocation: { perIp: 'TOKEN_IP_LIMIT', perAccount: 'TOKEN_SESSION_LIMIT' },
    perIp: { limit: 120, windowSeconds: MINUTE },
    perAccount: { limit: 60, windowSeconds: MINUTE, keys: sessionCredentials },
  },
  // Each call stores a row (an OAuth state, or a nonce): bounded per client.
  providerSignIn: {
    name: 'provider-sign-in',
    perIp: { limit: 30, windowSeconds: MINUTE },
  },
  idTokenNonce: {
    name: 'id-token-nonce',
    perIp: { limit: 30, windowSeconds: MINUTE },
  },
  // Every admin endpoint shares one budget: an admin page makes a few calls
  // per user it shows; a stolen admin session cannot page through everyone.
  admin: {
    name: 'admin',
    perIp: { limit: 120, windowSeconds: MINUTE },
    perAccount: { limit: 60, windowSeconds: MINUTE, keys: sessionCredentials },
  },
  // A user's own security events: a page of them per visit to the account page.
  events: {
    name: 'events',
    perIp: { limit: 60, windowSeconds: MINUTE },
    perAccount: { limit: 30, windowSeconds: MINUTE, keys: sessionCredentials },
  },
  healthCheck: {
    name: 'health-db',
    perIp: { limit: 30, windowSeconds: MINUTE },
  },
} satisfies Record<string, RateLimitRule>;

/**
 * The client as Cloudflare saw it (src/client-address.ts); an IPv6 client
 * controls its whole /64, so that is one client. Local development has no
 * edge, so every local client shares one bucket.
 */
export function clientNetwork(c: Context<AppEnv>): string {
  const ip = clientIp(c.req.raw.headers);
  if (!ip) return 'local';
  return isIpv6(ip) ? ipv6Prefix(ip, 4) : ip;
}

export function keyFor(rule: string, scope: string, value: string): Promise<string> {
  // Hash, so neither emails nor credentials become Durable Object names.
  return sha256Hex(`${rule}\n${scope}\n${value}`);
}

export function limiterFor(c: Context<AppEnv>, key: string) {
  const namespace = c.env.RATE_LIMITER;
  return namespace.get(namespace.idFromName(key));
}

export function logLimiterUnavailable(error: unknown): void {
  console.error(JSON.stringify({ level: 'error', event: 'rate_limiter_unavailable', error: (error as Error).name }));
}

/** An account just locked by its limit: audited with the request's other events (src/audit/log.ts). */
function recordLock(c: Context<AppEnv>, limit: string, locks: 'email' | 'user' | undefined, key: string): void {
  const event = { type: 'rate_limited', actor: SYSTEM_ACTOR, reason: limit } as const;
  if (locks === 'email') c.var.audit.recordForEmail(key, event);
  else if (locks === 'user') c.var.audit.record({ ...event, userId: key });
}

export function refuse(retryAfterSeconds: number): AppError {
  return new AppError(429, ErrorCode.RATE_LIMITED, `Too many attempts; try again in ${retryAfterSeconds} seconds.`, {
    headers: { 'retry-after': String(retryAfterSeconds) },
  });
}

/** How long a per-account check refuses while its limiter cannot be reached. */
const OUTAGE_REFUSAL_SECONDS = 60;

/**
 * Refuses a request over its per-IP or per-account budget with 429 and
 * Retry-After. The per-IP budget is checked first, and a request it refuses
 * costs no account anything (except under a rule counted in the location,
 * which asks both at once: inLocationRateLimit). If the limiter cannot be reached, the per-IP
 * check lets the request through (an outage must not lock everybody out),
 * but the per-account check refuses it: a flood at one account's counter is
 * exactly what it exists to stop.
 */
export function rateLimit(rule: RateLimitRule): MiddlewareHandler<AppEnv> {
  if (rule.inLocation) return inLocationRateLimit(rule, rule.inLocation);
  return async function rateLimiter(c, next) {
    const perIp = await limiterFor(c, await keyFor(rule.name, 'ip', clientNetwork(c)))
      .attempt(rule.perIp.limit, rule.perIp.windowSeconds * 1000)
      .catch((error: unknown) => {
        logLimiterUnavailable(error);
        return { allowed: true, retryAfterSeconds: 0 };
      });
    if (!perIp.allowed) throw refuse(perIp.retryAfterSeconds);

    const account = rule.perAccount;
    const accountKeys = account ? await account.keys(c) : [];
    const limiters = await Promise.all(
      accountKeys.map(async (value) => limiterFor(c, await keyFor(rule.name, 'account', value))),
    );
    if (account) {
      const windowMs = account.windowSeconds * 1000;
      const decisions = await Promise.all(limiters.map((limiter) => limiter.attempt(account.limit, windowMs))).catch(
        (error: unknown) => {
          logLimiterUnavailable(error);
          throw refuse(OUTAGE_REFUSAL_SECONDS);
        },
      );
      const refused = decisions.filter((decision) => !decision.allowed);
      if (refused.length > 0) {
        decisions.forEach((decision, index) => {
          if (decision.firstRefusal) recordLock(c, rule.name, account.locks, accountKeys[index] as string);
        });
        throw refuse(Math.max(...refused.map((decision) => decision.retryAfterSeconds)));
      }
    }

    await next();

    if (account?.countOnly && !account.countOnly(c.res.status)) {
      c.executionCtx.waitUntil(Promise.all(limiters.map((limiter) => limiter.refund())).catch(() => {}));
    }
  };
}

/**
 * rateLimit() for a rule counted by Workers Rate Limiting bindings, with the
 * same answer to an outage: the per-IP check lets the request through, the
 * per-account check refuses it. A binding says only yes or no, so a refusal
 * asks the client to wait out one window. Both counts are taken at once
 * (one after the other, they cost a token about 0.35 ms more in local
 * workerd), so a request the per-IP limit refuses still counts against its
 * session: both limits are about volume, and that volume was sent.
 */
function inLocationRateLimit(
  rule: RateLimitRule,
  bindings: NonNullable<RateLimitRule['inLocation']>,
): MiddlewareHandler<AppEnv> {
  // Each count answers the refusal it calls for, or nothing. Only a binding's
  // own failure is an outage; a fault in building the keys is ours.
  const countPerIp = async (c: Context<AppEnv>): Promise<AppError | undefined> => {
    const key = await keyFor(rule.name, 'ip', clientNetwork(c));
    try {
      if (!(await c.env[bindings.perIp].limit({ key })).success) return refuse(rule.perIp.windowSeconds);
    } catch (error) {
      logLimiterUnavailable(error);
    }
    return undefined;
  };
  const countPerAccount = async (
    c: Context<AppEnv>,
    account: NonNullable<RateLimitRule['perAccount']>,
  ): Promise<AppError | undefined> => {
    const keys = await Promise.all((await account.keys(c)).map((value) => keyFor(rule.name, 'account', value)));
    try {
      const outcomes = await Promise.all(keys.map((key) => c.env[bindings.perAccount].limit({ key })));
      return outcomes.every((outcome) => outcome.success) ? undefined : refuse(account.windowSeconds);
    } catch (error) {
      logLimiterUnavailable(error);
      return refuse(OUTAGE_REFUSAL_SECONDS);
    }
  };

  return async function inLocationRateLimiter(c, next) {
    const account = rule.perAccount;
    // The per-IP refusal first, as rateLimit() answers.
    const refusal = (await Promise.all([countPerIp(c), account && countPerAccount(c, account)])).find(Boolean);
    if (refusal) throw refusal;
    await next();
  };
}
