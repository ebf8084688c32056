#!/usr/bin/env node
'use strict';
// The payhook CLI. Installed packages run the compiled dist/cli.js; inside the payhook monorepo,
// where nothing is built, the TypeScript sources run through tsx, with the root tsconfig mapping
// @payhook/* to the packages' sources.
const { existsSync } = require('node:fs');
const path = require('node:path');

const compiled = path.join(__dirname, '..', 'dist', 'cli.js');
let cli;
if (existsSync(compiled)) {
  cli = require(compiled);
} else {
  const rootTsconfig = path.join(__dirname, '..', '..', '..', 'tsconfig.json');
  if (!process.env.TSX_TSCONFIG_PATH && existsSync(rootTsconfig))
    process.env.TSX_TSCONFIG_PATH = rootTsconfig;
  try {
    require('tsx/cjs');
  } catch {
    process.stderr.write(
      'payhook: dist/cli.js is missing and tsx is not installed: run the build\n',
    );
    process.exit(2);
  }
  cli = require(path.join(__dirname, '..', 'src', 'cli.ts'));
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
