#!/usr/bin/env node
// `npm start`: the merchant example (examples/merchant-app) against the built-in gateway
// simulators and test keys; it prints the order table, then keeps serving the shop with the
// inspector mounted (its URL and login printed) until Ctrl-C. `npm start -- --once` exits after
// the table. With real gateway keys in the environment it serves them instead (`npm start --
// --help` lists the variables).
const { existsSync } = require('node:fs');
const { spawn } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const entry = path.join(root, 'examples', 'merchant-app', 'src', 'main.ts');
if (!existsSync(entry)) {
  console.error(`payhook: ${path.relative(root, entry)} is missing`);
  process.exit(1);
}
// The sources run through tsx; the root tsconfig maps @payhook/* to the packages' sources, so
// nothing needs building first, whatever the current directory.
const env = { ...process.env };
env.TSX_TSCONFIG_PATH ??= path.join(root, 'tsconfig.json');
const child = spawn(process.execPath, ['--import', 'tsx', entry, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env,
  // `--import tsx` resolves from the working directory: the repository's node_modules.
  cwd: root,
});
// Ctrl-C reaches the whole process group: the example closes the shop itself and exits; this
// process only waits for it. A SIGTERM sent to this process alone (a process manager) is passed on.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('error', (error) => {
  console.error(`payhook: could not run the example: ${error.message}`);
  process.exit(1);
});
child.on('exit', (code) => process.exit(code ?? 1));
