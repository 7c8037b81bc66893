// Runs before `npm install`: the toolchain (wrangler, miniflare, vitest) needs Node 22.12+.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `\nauth-worker needs Node.js 22.12 or newer; this is ${process.version}.\n` +
      'Install a current Node (https://nodejs.org, nvm, or `npm i node@24` in a tools folder and put its\n' +
      'node_modules/.bin first on PATH), then run npm install again.\n',
  );
  process.exit(1);
}
