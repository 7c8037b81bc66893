// Google, GitHub and Discord as the Worker sees them over the network, and
// nothing else: installed as globalThis.fetch in the test isolate, where
// Better Auth's provider calls go, for these hosts only. Everything else
// (there is nothing else: the database speaks WebSockets) passes through.
//
// Each fake checks what the Worker sends the way the real provider does
// (client credentials, redirect_uri, a single-use code, the PKCE verifier
// against the challenge from the authorization URL) and answers with the
// provider's own error when something is wrong, noting why in `rejections`.
// Tests also read `tokenRequests` to assert exactly what was sent.
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { sha256Base64url } from '../../src/digest';
import type { EnvOverrides } from '../helpers';
import { TEST_AUTH_URL } from '../setup/constants';

export interface FakeUser {
  /** The provider's subject: Google's `sub`, GitHub's numeric id, Discord's snowflake. */
  id: string;
  email: string;
  emailVerified: boolean;
  name: string;
}

/** An error to answer with instead of the normal answer. */
export interface FakeFailure {
  status: number;
  body?: unknown;
}

interface Grant {
  redirectUri: string;
  codeChallenge: string | null;
  user: FakeUser;
  used: boolean;
}

interface TokenOptions {
  /** Google only: sign the id_token with a key that is not in the published key set. */
  signWithUnpublishedKey?: boolean;
  /** Google only: the id_token's `aud`, when it should not be our client id. */
  audience?: string;
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** The PKCE S256 challenge of a verifier. */
const s256 = sha256Base64url;

/** The posted form. (request.text() on a form body makes workerd warn.) */
async function formOf(request: Request): Promise<URLSearchParams> {
  return new URLSearchParams(new TextDecoder().decode(await request.arrayBuffer()));
}

const randomToken = (prefix: string) => `${prefix}-${crypto.randomUUID()}`;

abstract class FakeProvider<Endpoint extends string> {
  abstract readonly id: 'google' | 'github' | 'discord';
  abstract readonly authorizationEndpoint: string;
  abstract readonly clientId: string;
  abstract readonly clientSecret: string;
  /** Whether Better Auth sends PKCE to this provider. */
  abstract readonly usesPkce: boolean;

  /** Every token request, as the form the Worker posted. */
  readonly tokenRequests: URLSearchParams[] = [];
  /** Why the fake refused a request, in order. */
  readonly rejections: string[] = [];
  /** How many requests each endpoint received. */
  readonly hits = new Map<Endpoint, number>();

  protected readonly grants = new Map<string, Grant & TokenOptions>();
  protected readonly accessTokens = new Map<string, Grant & TokenOptions>();
  private readonly failures = new Map<Endpoint, FakeFailure>();
  private readonly holding = new Map<Endpoint, () => void>();
  private readonly held: Array<() => void> = [];

  get redirectUri(): string {
    return `${TEST_AUTH_URL}/api/auth/callback/${this.id}`;
  }

  /** From now on, answer `endpoint` with this failure. */
  failWith(endpoint: Endpoint, failure: FakeFailure): void {
    this.failures.set(endpoint, failure);
  }

  /**
   * From now on, leave requests to `endpoint` unanswered (until release()).
   * Resolves once one arrives.
   */
  hold(endpoint: Endpoint): Promise<void> {
    return new Promise((resolve) => this.holding.set(endpoint, resolve));
  }

  /**
   * The user approves at the provider. Checks the authorization request as
   * the provider would and returns the URL it redirects the browser to.
   */
  approve(authorizationUrl: string, user: FakeUser, options: TokenOptions = {}): string {
    const params = this.checkAuthorizationRequest(authorizationUrl);
    const code = randomToken(`${this.id}-code`);
    this.grants.set(code, {
      redirectUri: params.get('redirect_uri') ?? '',
      codeChallenge: params.get('code_challenge'),
      user,
      used: false,
      ...options,
    });
    const callback = new URL(this.redirectUri);
    callback.searchParams.set('code', code);
    callback.searchParams.set('state', params.get('state') ?? '');
    return callback.toString();
  }

  /** The user clicks "Cancel" at the provider. */
  deny(authorizationUrl: string): string {
    const params = this.checkAuthorizationRequest(authorizationUrl);
    const callback = new URL(this.redirectUri);
    callback.searchParams.set('error', 'access_denied');
    callback.searchParams.set('state', params.get('state') ?? '');
    return callback.toString();
  }

  /** Throws (in the test, not in the Worker) when the authorization URL is not what the provider accepts. */
  protected checkAuthorizationRequest(authorizationUrl: string): URLSearchParams {
    const url = new URL(authorizationUrl);
    const problems: string[] = [];
    if (`${url.origin}${url.pathname}` !== this.authorizationEndpoint)
      problems.push(`endpoint ${url.origin}${url.pathname}`);
    const params = url.searchParams;
    if (params.get('client_id') !== this.clientId) problems.push('client_id');
    if (params.get('redirect_uri') !== this.redirectUri) problems.push(`redirect_uri ${params.get('redirect_uri')}`);
    if (params.get('response_type') !== 'code') problems.push('response_type');
    if (!params.get('state')) problems.push('state');
    if (this.usesPkce && (params.get('code_challenge_method') !== 'S256' || !params.get('code_challenge'))) {
      problems.push('PKCE S256');
    }
    if (problems.length) throw new Error(`${this.id} would refuse this authorization request: ${problems.join(', ')}`);
    return params;
  }

  /** Answers a request to one of this provider's hosts. */
  abstract handle(request: Request): Promise<Response>;

  protected async serve(endpoint: Endpoint, answer: () => Promise<Response> | Response): Promise<Response> {
    this.hits.set(endpoint, (this.hits.get(endpoint) ?? 0) + 1);
    const arrived = this.holding.get(endpoint);
    if (arrived) {
      return new Promise((resolve) => {
        this.held.push(() => resolve(json({ error: 'released_by_test' }, 504)));
        arrived();
      });
    }
    const failure = this.failures.get(endpoint);
    if (failure) return json(failure.body ?? { error: 'server_error' }, failure.status);
    return answer();
  }

  /**
   * The token endpoint's checks, shared by the three providers: returns the
   * grant and a new access token, or throws RefusedGrant with the reason the
   * provider would refuse the request.
   */
  protected async redeemCode(form: URLSearchParams): Promise<{ grant: Grant & TokenOptions; accessToken: string }> {
    this.tokenRequests.push(form);
    const refuse = (reason: string): never => {
      this.rejections.push(reason);
      throw new RefusedGrant(reason);
    };
    if (form.get('grant_type') !== 'authorization_code') refuse('grant_type');
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) {
      refuse('client credentials');
    }
    const grant = this.grants.get(form.get('code') ?? '') ?? refuse('unknown code');
    if (grant.used) refuse('code already used');
    grant.used = true;
    if (form.get('redirect_uri') !== grant.redirectUri) refuse('redirect_uri differs from the authorization request');
    if (grant.codeChallenge !== null) {
      const verifier = form.get('code_verifier');
      if (!verifier || (await s256(verifier)) !== grant.codeChallenge) refuse('code_verifier does not match');
    }
    const accessToken = randomToken(`${this.id}-access`);
    this.accessTokens.set(accessToken, grant);
    return { grant, accessToken };
  }

  protected grantForBearer(request: Request): (Grant & TokenOptions) | undefined {
    const token = request.headers.get('authorization')?.replace(/^Bearer /i, '') ?? '';
    return this.accessTokens.get(token);
  }

  /** Answers every held request, so nothing is left pending after a test. */
  release(): void {
    for (const answer of this.held.splice(0)) answer();
  }
}

class RefusedGrant extends Error {}

/** RSA key generation is slow: one key set per test file is enough. */
let googleKeys: Promise<{ published: CryptoKey; unpublished: CryptoKey; publicJwk: JWK }> | undefined;

class FakeGoogle extends FakeProvider<'token' | 'certs'> {
  readonly id = 'google';
  readonly authorizationEndpoint = 'https://accounts.google.com/o/oauth2/v2/auth';
  readonly clientId = 'test-client.apps.googleusercontent.com';
  readonly clientSecret = 'test-google-client-secret';
  readonly usesPkce = true;
  readonly hosts = ['oauth2.googleapis.com', 'www.googleapis.com'];

  private constructor(
    private readonly signingKey: CryptoKey,
    private readonly unpublishedKey: CryptoKey,
    private readonly publicJwk: JWK,
  ) {
    super();
  }

  static async create(): Promise<FakeGoogle> {
    googleKeys ??= (async () => {
      const published = await generateKeyPair('RS256', { extractable: true });
      const unpublished = await generateKeyPair('RS256');
      const publicJwk = {
        ...(await exportJWK(published.publicKey)),
        kid: 'fake-google-key-1',
        alg: 'RS256',
        use: 'sig',
      };
      return { published: published.privateKey, unpublished: unpublished.privateKey, publicJwk };
    })();
    const { published, unpublished, publicJwk } = await googleKeys;
    return new FakeGoogle(published, unpublished, publicJwk);
  }

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === 'POST' && url.href === 'https://oauth2.googleapis.com/token') {
      return this.serve('token', () => this.token(request));
    }
    if (request.method === 'GET' && url.href === 'https://www.googleapis.com/oauth2/v3/certs') {
      return this.serve('certs', () => json({ keys: [this.publicJwk] }));
    }
    return json({ error: 'not_found' }, 404);
  }

  /**
   * An id_token as Google signs it for `user`: what the token endpoint returns,
   * and what a native app would get from Google's sign-in SDK.
   */
  async signIdToken(user: FakeUser, options: TokenOptions & { nonce?: string } = {}): Promise<string> {
    return new SignJWT({
      email: user.email,
      email_verified: user.emailVerified,
      name: user.name,
      picture: 'https://lh3.googleusercontent.com/a/fake',
      azp: this.clientId,
      ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
    })
      .setProtectedHeader({ alg: 'RS256', kid: this.publicJwk.kid, typ: 'JWT' })
      .setIssuer('https://accounts.google.com')
      .setAudience(options.audience ?? this.clientId)
      .setSubject(user.id)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(options.signWithUnpublishedKey ? this.unpublishedKey : this.signingKey);
  }

  private async token(request: Request): Promise<Response> {
    let redeemed: Awaited<ReturnType<typeof this.redeemCode>>;
    try {
      redeemed = await this.redeemCode(await formOf(request));
    } catch (error) {
      if (!(error instanceof RefusedGrant)) throw error;
      const invalidClient = error.message === 'client credentials';
      return json(
        { error: invalidClient ? 'invalid_client' : 'invalid_grant', error_description: 'Bad Request' },
        invalidClient ? 401 : 400,
      );
    }
    const { grant, accessToken } = redeemed;
    const idToken = await this.signIdToken(grant.user, grant);
    return json({
      access_token: accessToken,
      expires_in: 3599,
      scope: 'openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile',
      token_type: 'Bearer',
      id_token: idToken,
    });
  }
}

class FakeGitHub extends FakeProvider<'token' | 'user' | 'emails'> {
  readonly id = 'github';
  readonly authorizationEndpoint = 'https://github.com/login/oauth/authorize';
  readonly clientId = 'test-github-client-id';
  readonly clientSecret = 'test-github-client-secret';
  readonly usesPkce = true;
  readonly hosts = ['github.com', 'api.github.com'];

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === 'POST' && url.href === 'https://github.com/login/oauth/access_token') {
      return this.serve('token', () => this.token(request));
    }
    if (request.method === 'GET' && url.href === 'https://api.github.com/user') {
      return this.serve('user', () => this.withGrant(request, ({ user }) => this.profile(user)));
    }
    if (request.method === 'GET' && url.href === 'https://api.github.com/user/emails') {
      return this.serve('emails', () =>
        this.withGrant(request, ({ user }) => [
          { email: user.email, primary: true, verified: user.emailVerified, visibility: 'private' },
          { email: `${user.id}+noreply@users.noreply.github.com`, primary: false, verified: true, visibility: null },
        ]),
      );
    }
    return json({ message: 'Not Found' }, 404);
  }

  private profile(user: FakeUser) {
    // A private email: GitHub's /user shows null, the address is in /user/emails.
    return {
      id: Number(user.id),
      login: user.name.toLowerCase().replace(/\W+/g, '-'),
      name: user.name,
      email: null,
      avatar_url: `https://avatars.githubusercontent.com/u/${user.id}`,
    };
  }

  private withGrant(request: Request, body: (grant: Grant) => unknown): Response {
    if (!request.headers.get('user-agent')) return json({ message: 'User-Agent required' }, 403);
    const grant = this.grantForBearer(request);
    if (!grant) {
      this.rejections.push('bad access token');
      return json({ message: 'Bad credentials' }, 401);
    }
    return json(body(grant));
  }

  private async token(request: Request): Promise<Response> {
    // GitHub answers a bad code with 200 and an error field.
    try {
      const { accessToken } = await this.redeemCode(await formOf(request));
      return json({ access_token: accessToken, token_type: 'bearer', scope: 'read:user,user:email' });
    } catch (error) {
      if (!(error instanceof RefusedGrant)) throw error;
      if (error.message === 'client credentials') return json({ error: 'incorrect_client_credentials' });
      return json({ error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' });
    }
  }
}

class FakeDiscord extends FakeProvider<'token' | 'user'> {
  readonly id = 'discord';
  readonly authorizationEndpoint = 'https://discord.com/api/oauth2/authorize';
  readonly clientId = '1234567890123456789';
  readonly clientSecret = 'test-discord-client-secret';
  // Better Auth's Discord provider sends no PKCE.
  readonly usesPkce = false;
  readonly hosts = ['discord.com'];

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === 'POST' && url.href === 'https://discord.com/api/oauth2/token') {
      return this.serve('token', async () => {
        try {
          const { accessToken } = await this.redeemCode(await formOf(request));
          return json({
            access_token: accessToken,
            token_type: 'Bearer',
            expires_in: 604800,
            refresh_token: randomToken('discord-refresh'),
            scope: 'identify email',
          });
        } catch (error) {
          if (!(error instanceof RefusedGrant)) throw error;
          return json({ error: 'invalid_grant', error_description: 'Invalid "code" in request.' }, 400);
        }
      });
    }
    // Better Auth's fetch client sends the path with the '@' percent-encoded (/users/%40me).
    if (request.method === 'GET' && ['/api/users/@me', '/api/users/%40me'].includes(url.pathname)) {
      return this.serve('user', () => {
        const grant = this.grantForBearer(request);
        if (!grant) return json({ message: '401: Unauthorized', code: 0 }, 401);
        const { user } = grant;
        return json({
          id: user.id,
          username: user.name.toLowerCase().replace(/\W+/g, '_'),
          global_name: user.name,
          discriminator: '0',
          avatar: null,
          email: user.email,
          verified: user.emailVerified,
        });
      });
    }
    return json({ message: '404: Not Found', code: 0 }, 404);
  }
}

export interface FakeProviders {
  google: FakeGoogle;
  github: FakeGitHub;
  discord: FakeDiscord;
  /** The variables that configure all three providers with the fakes' credentials. */
  env: EnvOverrides;
  /** Puts the real fetch back and answers anything still held. */
  restore(): void;
}

/** Replaces globalThis.fetch for the provider hosts until restore(). */
export async function installFakeProviders(): Promise<FakeProviders> {
  const google = await FakeGoogle.create();
  const github = new FakeGitHub();
  const discord = new FakeDiscord();
  const fakes = [google, github, discord];
  const realFetch = globalThis.fetch;

  globalThis.fetch = async function fakeProviderFetch(input, init) {
    const request = new Request(input, init);
    const host = new URL(request.url).host;
    const fake = fakes.find((candidate) => candidate.hosts.includes(host));
    return fake ? fake.handle(request) : realFetch(input, init);
  } as typeof fetch;

  return {
    google,
    github,
    discord,
    env: {
      GOOGLE_CLIENT_ID: google.clientId,
      GOOGLE_CLIENT_SECRET: google.clientSecret,
      GITHUB_CLIENT_ID: github.clientId,
      GITHUB_CLIENT_SECRET: github.clientSecret,
      DISCORD_CLIENT_ID: discord.clientId,
      DISCORD_CLIENT_SECRET: discord.clientSecret,
    },
    restore() {
      globalThis.fetch = realFetch;
      for (const fake of fakes) fake.release();
    },
  };
}

export { s256 as codeChallengeFor };
