#!/usr/bin/env node
'use strict';
// The payhook-postgres bin: migrate, worker, dead-letters. Installed packages (no src/ in the
// tarball) run the compiled dist/cli/main.js; inside the payhook monorepo the TypeScript sources
// run through tsx, with the root tsconfig mapping @payhook/* to the packages' sources, so a dist/
// left by an earlier build never runs instead of the sources being edited (and tests need no build).
const { existsSync } = require('node:fs');
const path = require('node:path');

const compiled = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const source = path.join(__dirname, '..', 'src', 'cli', 'main.ts');

/** tsx's require hook, with the monorepo's path mapping; false when tsx is not installed. */
function loadTsx() {
  const rootTsconfig = path.join(__dirname, '..', '..', '..', 'tsconfig.json');
  if (!process.env.TSX_TSCONFIG_PATH && existsSync(rootTsconfig))
    process.env.TSX_TSCONFIG_PATH = rootTsconfig;
  try {
    require('tsx/cjs');
    return true;
  } catch {
    return false;
  }
}

let cli;
if (existsSync(source) && loadTsx()) cli = require(source);
else if (existsSync(compiled)) cli = require(compiled);
else {
  process.stderr.write('payhook-postgres: dist/cli/main.js is missing: run the build\n');
  process.exit(1);
}

cli.runPostgresCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(
      `payhook-postgres: unexpected failure: ${error && error.stack ? error.stack : error}\n`,
    );
    process.exitCode = 1;
  },
);
