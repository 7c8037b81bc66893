import { DurableObject } from 'cloudflare:workers';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from './env';
import { AppError, ErrorCode } from './errors';

// Rate limits shared by every isolate and location: one Durable Object per
// limited key (rule + client IP, or rule + account) counts attempts in a fixed
// window. A Durable Object runs one request at a time, so counting is atomic,
// and abusive traffic never reaches Postgres. Better Auth's own limiter keeps
// its counts in isolate memory, which limits nothing across the fleet.

interface Window {
  startedAt: number;
  count: number;
}

export interface LimitDecision {
  allowed: boolean;
  retryAfterSeconds: number;
}

export class RateLimiter extends DurableObject {
  /** Counts one attempt; refuses it once `limit` attempts fell in the current window. */
  async attempt(limit: number, windowMs: number): Promise<LimitDecision> {
    const now = Date.now();
    let window = await this.ctx.storage.get<Window>('window');
    if (!window || now >= window.startedAt + windowMs) window = { startedAt: now, count: 0 };
    const retryAfterSeconds = Math.max(1, Math.ceil((window.startedAt + windowMs - now) / 1000));
    if (window.count >= limit) return { allowed: false, retryAfterSeconds };
    window.count++;
    await this.ctx.storage.put('window', window);
    // Let an idle key's storage go once its window is over.
    await this.ctx.storage.setAlarm(window.startedAt + windowMs);
    return { allowed: true, retryAfterSeconds };
  }

  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }
}

export interface Limit {
  limit: number;
  windowSeconds: number;
}

export interface RateLimitRule {
  /** Names the counter: the same name means the same budget. */
  name: string;
  perIp: Limit;
  /** Per account: the email in the body, or the session credential. */
  perAccount?: Limit & { key: (c: Context<AppEnv>) => string | undefined };
}

const MINUTE = 60;

/** The account an email-based request is about; the body was validated and normalized already. */
const emailInBody = (c: Context<AppEnv>) => c.get('body')?.email as string | undefined;

/** The session credential presented (cookie or bearer), whatever its validity. */
function sessionCredential(c: Context<AppEnv>): string | undefined {
  const bearer = c.req.header('authorization')?.match(/^Bearer (.+)$/i)?.[1];
  return bearer ?? c.req.header('cookie')?.match(/(?:^|;\s*)(?:__Secure-)?better-auth\.session_token=([^;]+)/)?.[1];
}

export const RATE_LIMITS = {
  signIn: {
    name: 'sign-in',
    perIp: { limit: 30, windowSeconds: MINUTE },
    perAccount: { limit: 10, windowSeconds: 15 * MINUTE, key: emailInBody },
  },
  signUp: {
    name: 'sign-up',
    perIp: { limit: 10, windowSeconds: 10 * MINUTE },
    perAccount: { limit: 3, windowSeconds: 10 * MINUTE, key: emailInBody },
  },
  passwordResetRequest: {
    name: 'password-reset-request',
    perIp: { limit: 5, windowSeconds: 15 * MINUTE },
    perAccount: { limit: 3, windowSeconds: 60 * MINUTE, key: emailInBody },
  },
  passwordReset: {
    name: 'password-reset',
    perIp: { limit: 10, windowSeconds: 15 * MINUTE },
  },
  token: {
    name: 'token',
    perIp: { limit: 120, windowSeconds: MINUTE },
    perAccount: { limit: 60, windowSeconds: MINUTE, key: sessionCredential },
  },
} satisfies Record<string, RateLimitRule>;

/**
 * The client's IP as Cloudflare saw it. Only cf-connecting-ip counts: the edge
 * sets it and clients cannot; X-Forwarded-For and friends are client-controlled.
 * Local development has no edge, so every local client shares one bucket.
 */
export function clientIp(c: Context<AppEnv>): string {
  return c.req.header('cf-connecting-ip') ?? 'local';
}

async function keyFor(rule: string, scope: string, value: string): Promise<string> {
  // Hash, so neither emails nor credentials become Durable Object names.
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${rule}\n${scope}\n${value}`));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

async function attempt(c: Context<AppEnv>, key: string, { limit, windowSeconds }: Limit): Promise<LimitDecision> {
  // wrangler types leaves the namespace untyped; the class is ours.
  const limiter = c.env.RATE_LIMITER as unknown as DurableObjectNamespace<RateLimiter>;
  try {
    return await limiter.get(limiter.idFromName(key)).attempt(limit, windowSeconds * 1000);
  } catch (error) {
    // Fail open: an outage of the limiter must not lock everybody out.
    console.error(JSON.stringify({ level: 'error', event: 'rate_limiter_unavailable', error: (error as Error).name }));
    return { allowed: true, retryAfterSeconds: 0 };
  }
}

/** Refuses a request over its per-IP or per-account budget with 429 and Retry-After. */
export function rateLimit(rule: RateLimitRule): MiddlewareHandler<AppEnv> {
  return async function rateLimiter(c, next) {
    const checks: Array<Promise<LimitDecision>> = [
      keyFor(rule.name, 'ip', clientIp(c)).then((key) => attempt(c, key, rule.perIp)),
    ];
    const account = rule.perAccount?.key(c);
    if (rule.perAccount && account) {
      const perAccount = rule.perAccount;
      checks.push(keyFor(rule.name, 'account', account).then((key) => attempt(c, key, perAccount)));
    }
    const refused = (await Promise.all(checks)).filter((decision) => !decision.allowed);
    if (refused.length > 0) {
      const retryAfter = Math.max(...refused.map((decision) => decision.retryAfterSeconds));
      throw new AppError(429, ErrorCode.RATE_LIMITED, `Too many attempts; try again in ${retryAfter} seconds.`, {
        headers: { 'retry-after': String(retryAfter) },
      });
    }
    await next();
  };
}
