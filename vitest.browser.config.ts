import { defineConfig } from 'vitest/config';

// Browser tests: Node drives the system's Chromium (playwright-core, no
// downloaded browsers) against `npm run dev` on the embedded database. Not part
// of `npm test`, which runs inside workerd. `npm run test:browser`.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/browser/**/*.browser.ts'],
    globalSetup: ['./test/browser/dev-server.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
