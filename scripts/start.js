#!/usr/bin/env node
// `npm start`: runs the merchant example against the built-in gateway simulators once it exists
// (issue: @payhook/testing, the payhook CLI and npm start). Until then it says so and exits 0.
const { existsSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const entry = path.join(__dirname, '..', 'examples', 'merchant-app', 'src', 'main.ts');
if (!existsSync(entry)) {
  console.log('payhook: no example yet. The merchant example app arrives with @payhook/testing;');
  console.log('meanwhile `npm test` runs every package against real HTTP, Redis and socket.io.');
  process.exit(0);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', entry, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
