// Builds src/pages/assets.js from src/pages/client/ (scripts/lib/page-assets.ts):
// wrangler.toml's [build] command, run by every wrangler command that bundles.
import { buildPageAssets } from './lib/page-assets.ts';

buildPageAssets();
