import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { AUTH_BASE_PATH } from './auth';
import type { AppEnv } from './env';
import { AppError, ErrorCode, errorBody } from './errors';
import { MAX_BODY_BYTES, signInBody, signUpBody, validateJsonBody } from './input';
import { publicKeyRoutes } from './jwt/routes';
import { requestLog, withAuth } from './middleware';
import { oauthRoutes } from './oauth/routes';
import { scheduled } from './scheduled';

const app = new Hono<AppEnv>();

app.use('*', requestId(), requestLog);

app.get('/health', (c) => c.json({ status: 'ok' }));

// Before the /api/* middleware: public keys need no per-request database.
app.route('/', publicKeyRoutes);

app.use(
  '/api/*',
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new AppError(413, ErrorCode.PAYLOAD_TOO_LARGE, `The request body exceeds ${MAX_BODY_BYTES} bytes.`);
    },
  }),
  withAuth,
);

/** The signed-in user, read server-side: the pattern for any protected route. */
app.get('/api/me', async (c) => {
  const result = await c.var.auth.api.getSession({ headers: c.req.raw.headers });
  if (!result) {
    throw new AppError(
      401,
      ErrorCode.UNAUTHORIZED,
      'Sign in first: send the session cookie or Authorization: Bearer <session token>.',
    );
  }
  const { user, session } = result;
  return c.json({
    user: { id: user.id, email: user.email, name: user.name, emailVerified: user.emailVerified },
    session: { id: session.id, expiresAt: session.expiresAt },
  });
});

app.post(`${AUTH_BASE_PATH}/sign-up/email`, validateJsonBody(signUpBody));
app.post(`${AUTH_BASE_PATH}/sign-in/email`, validateJsonBody(signInBody));
app.route(AUTH_BASE_PATH, oauthRoutes);

// The documented name for Better Auth's /get-session; same handler, same answer.
app.get(`${AUTH_BASE_PATH}/session`, (c) => {
  const url = new URL(c.req.url);
  url.pathname = `${AUTH_BASE_PATH}/get-session`;
  return handleAuth(c.var.auth, new Request(url, c.req.raw));
});

app.all(`${AUTH_BASE_PATH}/*`, (c) => handleAuth(c.var.auth, c.req.raw));

async function handleAuth(auth: AppEnv['Variables']['auth'], request: Request): Promise<Response> {
  const response = await auth.handler(request);
  // Auth answers carry sessions and tokens: no shared or browser cache keeps them.
  if (!response.headers.has('cache-control')) {
    const headers = new Headers(response.headers);
    headers.set('cache-control', 'no-store');
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
  return response;
}

app.notFound((c) =>
  c.json(errorBody(ErrorCode.NOT_FOUND, `No route for ${c.req.method} ${c.req.path}.`, c.get('requestId')), 404),
);

app.onError((error, c) => {
  const requestId = c.get('requestId');
  if (error instanceof AppError) {
    if (error.status >= 500) {
      console.error(JSON.stringify({ level: 'error', requestId, code: error.code, message: error.message }));
    }
    return c.json(errorBody(error.code, error.message, requestId), error.status);
  }
  if (error instanceof HTTPException) {
    return c.json(errorBody(`HTTP_${error.status}`, error.message || 'Request refused.', requestId), error.status);
  }
  // Driver and ORM messages can quote SQL parameters (emails, hashes): log the
  // error's type only and answer without internals.
  console.error(JSON.stringify({ level: 'error', requestId, event: 'unhandled_error', error: error.name }));
  return c.json(errorBody(ErrorCode.INTERNAL_ERROR, 'Something went wrong on our side; try again.', requestId), 500);
});

export { app };

export default {
  fetch: app.fetch,
  scheduled,
} satisfies ExportedHandler<Env>;
