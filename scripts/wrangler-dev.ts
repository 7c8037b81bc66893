// `wrangler dev` without its DevTools endpoint, in a process of its own; run
// by scripts/dev.ts as `tsx scripts/wrangler-dev.ts <port> <env file>`.
//
// The CLI always opens an inspector (127.0.0.1:9229, and workerd's own on a
// random port) that admits a page from any localhost origin and runs code in
// the Worker, bindings and all. wrangler's API can leave it off. Ctrl-C and
// SIGTERM stop wrangler and workerd as they stop the CLI.
import { unstable_startWorker } from 'wrangler';

const [port, envFile] = process.argv.slice(2);
if (!port || !envFile) throw new Error('usage: tsx scripts/wrangler-dev.ts <port> <env file>');

const worker = await unstable_startWorker({
  config: new URL('../wrangler.toml', import.meta.url).pathname,
  envFiles: [envFile],
  dev: {
    server: { hostname: '127.0.0.1', port: Number(port) },
    inspector: false,
    watch: true,
  },
});
await worker.ready;
