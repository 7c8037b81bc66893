/// <reference path="./provided-context.d.ts" />
// Vitest global setup, run in Node before any test: the database the Worker
// under test talks to. By default an in-memory embedded Postgres (PGlite);
// with TEST_DATABASE_URL, that server (a database the caller created fresh).
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres.ts';
import { applyMigrations } from '../../scripts/lib/migrate.ts';
import { postgresAddress, startWsProxy } from '../../scripts/lib/ws-proxy.ts';
import { FAULT_MODES, type FaultMode, startFaultProxy } from './fault-proxies.ts';
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
  const proxy = await startWsProxy({ targets: [postgresAddress(databaseUrl)] });
  stops.push(proxy.stop);

  const faultProxies = {} as Record<FaultMode, string>;
  for (const mode of FAULT_MODES) {
    const fault = await startFaultProxy(mode, postgresAddress(databaseUrl));
    stops.push(fault.stop);
    faultProxies[mode] = fault.address;
  }
  project.provide('faultProxies', faultProxies);
  const dropAtQueryProxies: string[] = [];
  for (let query = 1; query <= 8; query++) {
    const fault = await startFaultProxy('drop-mid-query', postgresAddress(databaseUrl), query);
    stops.push(fault.stop);
    dropAtQueryProxies.push(fault.address);
  }
  project.provide('dropAtQueryProxies', dropAtQueryProxies);

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
  project.provide('databaseWsProxy', proxy.address);

  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
