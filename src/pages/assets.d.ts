// The types of src/pages/assets.js, which scripts/lib/page-assets.ts builds from
// src/pages/client/ (not committed): wrangler.toml's [build] runs it before
// wrangler bundles the Worker, test/setup/workers-pool.ts before the tests.

/** src/pages/client/pages.ts, bundled for browsers: /assets/pages.js. */
export declare const PAGES_SCRIPT: string;
/** src/pages/client/pages.css, minified: /assets/pages.css. */
export declare const PAGES_STYLE: string;
