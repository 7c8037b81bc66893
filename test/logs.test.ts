import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { callWorker, postJson, signUp, uniqueEmail } from './helpers';
import { TEST_SECRET } from './setup/constants';

/** Everything the Worker writes to the console while `work` runs. */
async function captureLogs(work: () => Promise<unknown>): Promise<string> {
  const lines: string[] = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(
        args
          .map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg, Object.getOwnPropertyNames(arg ?? {}))))
          .join(' '),
      );
    });
  }
  await work();
  return lines.join('\n');
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('logs', () => {
  it('hold one JSON line per request and no credentials, emails or connection strings', async () => {
    const email = uniqueEmail('logged');
    const password = 'a secret password 123';
    let sessionToken = '';
    const output = await captureLogs(async () => {
      const response = await postJson('/api/auth/sign-up/email', { email, password, name: 'Logged' });
      sessionToken = ((await response.json()) as { token: string }).token;
      await postJson('/api/auth/sign-in/email', { email, password: 'the wrong password' });
      await callWorker('/api/auth/token', { headers: { authorization: `Bearer ${sessionToken}` } });
    });

    const requestLines = output.split('\n').filter((line) => line.includes('"requestId"') && line.includes('"route"'));
    expect(requestLines).toHaveLength(3);
    for (const line of requestLines) {
      expect(JSON.parse(line)).toMatchObject({
        requestId: expect.any(String),
        route: expect.any(String),
        status: expect.any(Number),
        durationMs: expect.any(Number),
      });
    }
    for (const secret of [email, password, 'the wrong password', sessionToken, TEST_SECRET, inject('databaseUrl')]) {
      expect(output).not.toContain(secret);
    }
  });

  it('hold no query parameters when the database fails mid-query', async () => {
    const email = uniqueEmail('failing');
    const password = 'another secret password';
    const output = await captureLogs(async () => {
      const response = await postJson(
        '/api/auth/sign-up/email',
        { email, password, name: 'Failing' },
        {},
        { DATABASE_URL: inject('faultDatabaseUrls')['drop-mid-query'] },
      );
      expect(response.status).toBe(503);
    });
    expect(output).toContain('DATABASE_UNAVAILABLE');
    for (const secret of [email, password, inject('databaseUrl'), inject('faultDatabaseUrls')['drop-mid-query']]) {
      expect(output).not.toContain(secret);
    }
  });

  it('keep reset-password tokens in paths out of the route', async () => {
    const output = await captureLogs(() => callWorker('/api/auth/reset-password/SecretToken123abcXYZ?callbackURL=/x'));
    expect(output).not.toContain('SecretToken123abcXYZ');
    expect(output).toContain('/api/auth/reset-password/:param');
  });
});

it('needs a real user to exist for sign-in logs', async () => {
  expect((await signUp()).id).toEqual(expect.any(String));
});
