#!/usr/bin/env node
'use strict';
// The payhook CLI. Installed packages (no src/ in the tarball) run the compiled dist/cli.js;
// inside the payhook monorepo the TypeScript sources run through tsx, with the root tsconfig
// mapping @payhook/* to the packages' sources: a dist/ left by an earlier build must not run
// instead of the sources being edited.
const { existsSync } = require('node:fs');
const path = require('node:path');

const compiled = path.join(__dirname, '..', 'dist', 'cli.js');
const source = path.join(__dirname, '..', 'src', 'cli.ts');

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
  process.stderr.write('payhook: dist/cli.js is missing and tsx is not installed: run the build\n');
  process.exit(2);
}

cli.main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(
      `payhook: unexpected failure: ${error && error.stack ? error.stack : error}\n`,
    );
    process.exitCode = 70;
  },
);
