import { describe, expect, it } from 'vitest';
import { callWorker } from './helpers';

describe('GET /health', () => {
  it('answers without the database, even when its URL is unusable', async () => {
    const response = await callWorker('/health', {}, { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const response = await callWorker('/nope');
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'NOT_FOUND', requestId: expect.any(String) });
  });
});
