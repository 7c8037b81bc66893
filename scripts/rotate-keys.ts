// `npm run keys:rotate`: moves the signing-key lifecycle forward now, exactly as
// the hourly cron does (src/jwt/key-store.ts).
//
// Production: DATABASE_URL, BETTER_AUTH_SECRET and JWT_ALG from the environment
// (.dev.vars is not read then, so no development value leaks in):
//   DATABASE_URL=... BETTER_AUTH_SECRET=... JWT_ALG=EdDSA npm run keys:rotate
// Development: .dev.vars and the environment, else the embedded dev database
// (scripts/lib/command-database.ts).
//
// `npm run keys:rotate -- --revoke <kid>` deletes a compromised key first; the
// rotation then makes the waiting key (or a new one) sign at once.
import { MIN_SECRET_LENGTH } from '../src/jwt/key-crypto.ts';
import { type KeyDatabase, keyState, readKeys, rotateSigningKeys, rotationSettings } from '../src/jwt/key-store.ts';
import { ISOLATE_KEY_CACHE_MS, JWT_ALGORITHMS, type JwtAlgorithm, SIGNING_KEY_MAX_AGE_MS } from '../src/jwt/policy.ts';
import { commandConfiguration, openCommandDatabase } from './lib/command-database.ts';
import { devSecret, log, redactedUrl } from './lib/local-config.ts';

function fail(message: string): never {
  console.error(`[auth-worker] ${message}`);
  process.exit(1);
}

async function printKeys(db: KeyDatabase): Promise<void> {
  const rows = (await readKeys(db)).map((key) => ({
    kid: key.id,
    alg: key.alg,
    state: keyState(key),
    published: key.createdAt.toISOString(),
    signing_since: key.activatedAt?.toISOString() ?? '',
    retired: key.expiresAt?.toISOString() ?? '',
  }));
  console.table(rows);
}

function parseArguments(): { revoke: string | undefined } {
  const args = process.argv.slice(2);
  const at = args.indexOf('--revoke');
  if (at === -1) return { revoke: undefined };
  const kid = args[at + 1];
  if (!kid) fail('--revoke needs the kid of the key to remove.');
  return { revoke: kid };
}

async function main(): Promise<void> {
  const { revoke } = parseArguments();
  const configuration = commandConfiguration();
  const { vars } = configuration;
  if (configuration.production && !vars.JWT_ALG) {
    fail(
      "Set JWT_ALG to the deployment's value (EdDSA or RS256): rotating with another one starts an algorithm change.",
    );
  }
  // The development database's keys are encrypted with the development secret.
  const secret = vars.BETTER_AUTH_SECRET ?? (configuration.embedded ? devSecret() : undefined);
  if (!secret || secret.length < MIN_SECRET_LENGTH) fail('Set BETTER_AUTH_SECRET (at least 32 characters).');
  const alg = (vars.JWT_ALG ?? 'EdDSA') as JwtAlgorithm;
  if (!JWT_ALGORITHMS.includes(alg)) fail(`JWT_ALG must be one of ${JWT_ALGORITHMS.join(', ')}.`);

  const database = await openCommandDatabase(configuration);
  try {
    log(`Rotating signing keys in ${redactedUrl(database.url)} (JWT_ALG=${alg})`);
    const db = database.db as unknown as KeyDatabase;
    const report = await rotateSigningKeys(
      db,
      rotationSettings({ jwtAlg: alg, secret, previousSecret: vars.BETTER_AUTH_PREVIOUS_SECRET }),
      new Date(),
      { revoke },
    );
    const signingBound = `${SIGNING_KEY_MAX_AGE_MS / 1000} s`;
    if (revoke) {
      log(`Removed key ${revoke}. Workers stop signing with it within ${signingBound} (one that cannot read`);
      log('the key table answers 503 instead); verifiers accept its tokens until their JWKS copy expires (README).');
    }
    console.log(JSON.stringify(report, null, 2));
    await printKeys(db);
    const publicCopy = `${ISOLATE_KEY_CACHE_MS / 60_000} minutes`;
    log(`Workers sign with the current key within ${signingBound} and publish changes within ${publicCopy} (isolate`);
    log('copies); edge copies of the JWKS follow within their max-age.');
  } finally {
    await database.close();
  }
}

await main();
