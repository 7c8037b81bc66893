// Single statements go over Neon's HTTP query path (src/db/client.ts), served
// in tests by scripts/lib/sql-over-http.ts in front of the same Postgres. What
// the app reads must not depend on the path: every value, parameter and error
// is checked against the same statement over a WebSocket. (The answer to a
// sign-up with a taken email, a unique violation, is in email-password.test.ts.)

import { env } from 'cloudflare:test';
import { NeonDbError } from '@neondatabase/serverless';
import { eq, type SQL, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../src/config';
import { createDb, databaseWork, isDatabaseUnavailable } from '../src/db/client';
import { user as userTable } from '../src/db/schema';
import { signUp, uniqueEmail } from './helpers';

type Db = ReturnType<typeof createDb>['db'];

const settings = readConfig(env).database;
const PATHS = {
  http: settings,
  // Without the local HTTP endpoint every statement goes over the WebSocket proxy.
  webSocket: { ...settings, httpProxy: undefined },
};

async function onPath<T>(path: keyof typeof PATHS, work: (db: Db) => Promise<T>) {
  const { db, close } = createDb(PATHS[path]);
  const before = databaseWork();
  try {
    const result = await work(db);
    const after = databaseWork();
    return {
      result,
      connections: after.connections - before.connections,
      httpQueries: after.httpQueries - before.httpQueries,
    };
  } finally {
    await close();
  }
}

/** The statement's rows on both paths, after checking that each took its path. */
async function bothPaths(statement: SQL) {
  const http = await onPath('http', (db) => db.execute(statement));
  const webSocket = await onPath('webSocket', (db) => db.execute(statement));
  expect({ connections: http.connections, httpQueries: http.httpQueries }).toEqual({ connections: 0, httpQueries: 1 });
  expect({ connections: webSocket.connections, httpQueries: webSocket.httpQueries }).toEqual({
    connections: 1,
    httpQueries: 0,
  });
  return { http: http.result.rows, webSocket: webSocket.result.rows };
}

describe('the HTTP query path', () => {
  it('reads every type as the WebSocket path does', async () => {
    const { http, webSocket } = await bothPaths(sql`
      select
        '2026-01-02 03:04:05.678+00'::timestamptz as at,
        '2026-01-02 03:04:05'::timestamp as local_at,
        '2026-01-02'::date as day,
        true as yes, false as no,
        '{"a": [1, "two", null]}'::json as doc,
        '{"b": {"c": true}}'::jsonb as docb,
        array[1, 2, 3]::int[] as ints,
        array['x', null, 'y, z']::text[] as texts,
        array['2026-01-02 03:04:05+00']::timestamptz[] as ats,
        null::text as nothing,
        9007199254740993::bigint as big,
        42::int as small,
        1.50::numeric as exact,
        0.5::float8 as float,
        '\\x00ff'::bytea as bytes,
        gen_random_uuid() is not null as has_uuid,
        'It''s "quoted" \\ and ünïcode'::text as text
    `);
    expect(http).toEqual(webSocket);
    expect(http[0]).toMatchObject({
      yes: true,
      no: false,
      doc: { a: [1, 'two', null] },
      docb: { b: { c: true } },
      ints: [1, 2, 3],
      texts: ['x', null, 'y, z'],
      nothing: null,
      // bigint and numeric stay text, as the driver returns them.
      big: '9007199254740993',
      small: 42,
      exact: '1.50',
      float: 0.5,
      text: 'It\'s "quoted" \\ and ünïcode',
    });
  });

  it('binds every kind of parameter as the WebSocket path does', async () => {
    const at = new Date('2026-03-04T05:06:07.089Z');
    const { http, webSocket } = await bothPaths(sql`
      select
        ${at}::timestamptz as at,
        ${true}::boolean as yes,
        ${JSON.stringify({ k: ['v', 1] })}::jsonb as doc,
        ${sql.param([1, 2, 3])}::int[] as ints,
        ${sql.param(['a', 'b,c', null])}::text[] as texts,
        ${null}::text as nothing,
        ${'9007199254740993'}::bigint as big,
        ${"'; drop table users; --"}::text as hostile
    `);
    expect(http).toEqual(webSocket);
    expect(http[0]).toMatchObject({
      yes: true,
      doc: { k: ['v', 1] },
      ints: [1, 2, 3],
      texts: ['a', 'b,c', null],
      nothing: null,
      big: '9007199254740993',
      hostile: "'; drop table users; --",
    });
    expect(new Date(http[0]?.at as string).toISOString()).toBe(at.toISOString());
  });

  it('maps rows through Drizzle as the WebSocket path does (timestamps, booleans)', async () => {
    const existing = await signUp();
    const read = (db: Db) => db.select().from(userTable).where(eq(userTable.id, existing.id));
    const http = await onPath('http', read);
    const webSocket = await onPath('webSocket', read);
    expect(http.httpQueries).toBe(1);
    expect(http.result).toEqual(webSocket.result);
    expect(http.result[0]?.createdAt).toBeInstanceOf(Date);
    expect(http.result[0]?.emailVerified).toBe(false);
  });

  it.each([
    { name: 'a unique violation', sqlstate: '23505' },
    { name: 'a syntax error', sqlstate: '42601' },
    { name: 'a division by zero', sqlstate: '22012' },
  ])('answers $name with its SQLSTATE, not as an unreachable database', async ({ sqlstate }) => {
    const existing = await signUp();
    const statements: Record<string, (db: Db) => Promise<unknown>> = {
      '23505': (db) => db.insert(userTable).values({ id: existing.id, name: 'x', email: uniqueEmail() }),
      '42601': (db) => db.execute(sql`select from where`),
      '22012': (db) => db.execute(sql`select 1 / 0`),
    };
    const { result: error, httpQueries } = await onPath('http', (db) =>
      (statements[sqlstate] as (db: Db) => Promise<unknown>)(db).then(
        () => undefined,
        (failure: unknown) => failure,
      ),
    );
    expect(httpQueries).toBe(1);
    expect(error).toMatchObject({ cause: { code: sqlstate } });
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

  // Neon's proxy answers some refusals at connection time (a wrong password,
  // a database that does not exist) as 400 with the server's SQLSTATE, the
  // form of a statement's error; anything but 200 or 400 it answers as a
  // server error, as does the local endpoint for every failure to connect.
  it.each([
    {
      answer: 'a refused password (400, 28P01)',
      error: Object.assign(new NeonDbError('x'), { code: '28P01' }),
      unavailable: true,
    },
    {
      answer: 'a missing database (400, 3D000)',
      error: Object.assign(new NeonDbError('x'), { code: '3D000' }),
      unavailable: true,
    },
    {
      answer: 'too many connections (400, 53300)',
      error: Object.assign(new NeonDbError('x'), { code: '53300' }),
      unavailable: true,
    },
    { answer: 'a server error (503)', error: new NeonDbError('Server error (HTTP status 503): {}'), unavailable: true },
    {
      answer: 'a failed fetch',
      error: new NeonDbError('Error connecting to database: TypeError: fetch failed'),
      unavailable: true,
    },
    {
      answer: 'a statement error that also refuses connections (55000)',
      error: Object.assign(new NeonDbError('x'), { code: '55000' }),
      unavailable: false,
    },
    {
      answer: 'a unique violation (23505)',
      error: Object.assign(new NeonDbError('x'), { code: '23505' }),
      unavailable: false,
    },
  ])('classifies $answer', ({ error, unavailable }) => {
    expect(isDatabaseUnavailable(new Error('Failed query', { cause: error }))).toBe(unavailable);
  });
});
