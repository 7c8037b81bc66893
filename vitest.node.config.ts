import { defineConfig } from 'vitest/config';

// Dev-tooling tests: the Node side of `npm run dev` (embedded Postgres, the
// WebSocket proxy, the data folder) tested in Node, where it runs. Not part of
// `npm test`, which runs inside workerd. `npm run test:dev-tooling`.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/dev-tooling/**/*.test.ts'],
    // Each file starts its own Postgres (one of them a whole `npm run dev`):
    // one at a time on a shared machine.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
