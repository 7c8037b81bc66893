import type { Handler } from 'hono';
import { forwardToAuth } from './middleware';
import type { AppEnv } from './request-context';

/**
 * POST /passkey/verify-registration. The passkey plugin answers every
 * registration its library refuses (another origin, a wrong challenge, a
 * malformed attestation) with 500 FAILED_TO_VERIFY_REGISTRATION. Those are
 * the client's: 400 with the same code. A database failure never gets here
 * as that code: forwardToAuth answers it with 503 first.
 */
export const passkeyRegistrationAnswer: Handler<AppEnv> = async (c) => {
  const answer = await forwardToAuth(c.var, c.req.raw);
  if (answer.status !== 500) return answer;
  const body = (await answer
    .clone()
    .json()
    .catch(() => null)) as { code?: unknown } | null;
  if (body?.code !== 'FAILED_TO_VERIFY_REGISTRATION') return answer;
  return new Response(answer.body, { status: 400, headers: answer.headers });
};
