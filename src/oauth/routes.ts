import type { Handler } from 'hono';
import { AppError, ErrorCode } from '../errors';
import { describeIssues, socialSignInQuery } from '../input';
import { forwardToAuth } from '../middleware';
import { AUTH_BASE_PATH } from '../paths';
import type { AppEnv } from '../request-context';
import { isConfiguredProvider, OAUTH_PROVIDERS } from './providers';

/**
 * GET /sign-in/:provider?callbackURL=…: a plain link starts a sign-in.
 * Better Auth only has POST /sign-in/social, which answers JSON; this route
 * sends that same request through Better Auth's handler (so its callback URL
 * checks, state, PKCE and cookies all apply) and turns the answer into the
 * redirect a browser follows. POST /sign-in/email is a separate route.
 */
export const socialSignInRedirect: Handler<AppEnv> = async function socialSignInRedirect(c) {
  const providerId = c.req.param('provider') ?? '';
  const { config } = c.var;
  if (!isConfiguredProvider(config.oauthProviders, providerId)) {
    const offered = OAUTH_PROVIDERS.filter(({ id }) => isConfiguredProvider(config.oauthProviders, id));
    throw new AppError(
      404,
      ErrorCode.PROVIDER_NOT_CONFIGURED,
      `Sign-in with "${providerId}" is not configured here. ` +
        (offered.length
          ? `Configured providers: ${offered.map(({ id }) => id).join(', ')}.`
          : 'No sign-in provider is configured.'),
    );
  }

  const query = socialSignInQuery.safeParse(c.req.query());
  if (!query.success) throw new AppError(400, ErrorCode.VALIDATION_ERROR, describeIssues(query.error));

  // Only what Better Auth needs: no cookies (nothing here reads a session), and
  // the client address it records with the session.
  const headers = new Headers({ 'content-type': 'application/json' });
  const clientIp = c.req.header('cf-connecting-ip');
  if (clientIp) headers.set('cf-connecting-ip', clientIp);
  const answer = await forwardToAuth(
    c.var,
    new Request(`${config.baseURL}${AUTH_BASE_PATH}/sign-in/social`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ provider: providerId, ...query.data }),
    }),
  );
  // Better Auth's refusals (an untrusted callbackURL: 403 INVALID_CALLBACK_URL), in our error shape.
  if (!answer.ok) return answer;

  const { url } = (await answer.json()) as { url: string };
  const redirect = new Response(null, { status: 302, headers: { location: url, 'cache-control': 'no-store' } });
  // The state cookie binds the callback to this browser.
  for (const cookie of answer.headers.getSetCookie()) redirect.headers.append('set-cookie', cookie);
  return redirect;
};
