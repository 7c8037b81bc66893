import { describe, expect, it } from 'vitest';
import { fakeEmailApi } from './fakes/email-api';
import { callWorker, databaseFingerprint } from './helpers';

// Attacks on the pages' forms without JavaScript (src/pages/routes.tsx,
// src/pages/api-call.ts): each found in review, each failing before its fix.

fakeEmailApi();

const FORM_PATHS = ['/login', '/signup', '/forgot-password', '/reset-password'];

describe('form bodies the browser would never send', () => {
  // Regression: Hono's parseBody threw on a multipart body it could not
  // parse, and the page answered a JSON 500 logged as an error: anyone could
  // fill the error log (and page whoever watches it) with one crafted post.
  it.each(
    FORM_PATHS.flatMap((path) => [
      [path, 'multipart/form-data', 'email=a@example.com'],
      [path, 'multipart/form-data; boundary=xyz', 'not a multipart body'],
      [path, 'multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.c'],
    ]),
  )('%s answers %s with a body it cannot parse as a 400 page, writing nothing', async (path, type, body) => {
    const before = await databaseFingerprint();
    const response = await callWorker(path, { method: 'POST', headers: { 'content-type': type }, body });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toContain('<form');
    expect(await databaseFingerprint()).toBe(before);
  });
});
