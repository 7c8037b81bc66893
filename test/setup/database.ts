/// <reference path="./provided-context.d.ts" />
// Vitest global setup, run in Node before any test: the database the Worker
// under test talks to. By default an in-memory embedded Postgres (PGlite);
// with TEST_DATABASE_URL, that server (a database the caller created fresh).
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres.ts';
import { applyMigrations } from '../../scripts/lib/migrate.ts';
import { startSqlOverHttp } from '../../scripts/lib/sql-over-http.ts';
import { postgresAddress, startWsProxy } from '../../scripts/lib/ws-proxy.ts';
import {
  type DatabaseFault,
  DEAD_ADDRESS,
  FAULT_MODES,
  startFaultProxy,
  startSwitchableRoute,
  withAddress,
} from './fault-proxies.ts';
import { createRefusingDatabases } from './refusing-databases.ts';

export default async function setup(project: TestProject) {
  const stops: Array<() => Promise<void>> = [];
  let databaseUrl = process.env.TEST_DATABASE_URL;
  if (!databaseUrl) {
    const embedded = await startEmbeddedPostgres();
    stops.push(embedded.stop);
    databaseUrl = embedded.url;
  }
  await applyMigrations(databaseUrl);
  const databaseAddress = postgresAddress(databaseUrl);

  // The faults sit between the WebSocket proxy and Postgres, so the Worker
  // reaches each by its DATABASE_URL as it reaches the database itself.
  const faultAddresses = { 'nothing-listens': DEAD_ADDRESS } as Record<DatabaseFault, string>;
  for (const mode of FAULT_MODES) {
    const fault = await startFaultProxy(mode, databaseAddress);
    stops.push(fault.stop);
    faultAddresses[mode] = fault.address;
  }
  const dropAtQueryAddresses: string[] = [];
  for (let query = 1; query <= 8; query++) {
    const fault = await startFaultProxy('drop-mid-query', databaseAddress, query);
    stops.push(fault.stop);
    dropAtQueryAddresses.push(fault.address);
  }
  const route = await startSwitchableRoute({ database: databaseAddress, ...faultAddresses });
  stops.push(route.stop);

  // The proxies forward only to the addresses they are given. Single
  // statements reach each fault over HTTP, transactions over WebSockets.
  const targets = [databaseAddress, ...Object.values(faultAddresses), ...dropAtQueryAddresses, route.address];
  const proxy = await startWsProxy({ targets });
  stops.push(proxy.stop);
  const httpProxy = await startSqlOverHttp({ targets });
  stops.push(httpProxy.stop);
  // The HTTP endpoint itself failing: a port nothing listens on, and a
  // server that accepts and never answers (the never-answer fault, which
  // reads a request as it reads a Postgres startup and says nothing).
  const secret = httpProxy.address.slice(httpProxy.address.indexOf('/'));
  project.provide('faultHttpProxies', {
    'nothing-listens': `${DEAD_ADDRESS}${secret}`,
    'never-answers': `${faultAddresses['never-answer']}${secret}`,
  });

  const urlOf = (address: string) => withAddress(databaseUrl, address);
  const faultDatabaseUrls = {} as Record<DatabaseFault, string>;
  for (const [fault, address] of Object.entries(faultAddresses) as Array<[DatabaseFault, string]>) {
    faultDatabaseUrls[fault] = urlOf(address);
  }
  project.provide('faultDatabaseUrls', faultDatabaseUrls);
  project.provide('dropAtQueryDatabaseUrls', dropAtQueryAddresses.map(urlOf));
  project.provide('switchableDatabase', { url: urlOf(route.address), control: route.control });

  // Refusals need a real server; on PGlite the tests that use them are skipped.
  if (process.env.TEST_DATABASE_URL) {
    const refusing = await createRefusingDatabases(databaseUrl);
    stops.push(refusing.drop);
    project.provide('refusingDatabaseUrls', refusing.urls);
  } else {
    project.provide('refusingDatabaseUrls', null);
  }

  console.log(`[tests] database: ${process.env.TEST_DATABASE_URL ? 'TEST_DATABASE_URL' : 'embedded PGlite'}`);
  project.provide('databaseUrl', databaseUrl);
  project.provide('embeddedDatabase', !process.env.TEST_DATABASE_URL);
  project.provide('databaseWsProxy', proxy.address);
  project.provide('databaseHttpProxy', httpProxy.address);

  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
