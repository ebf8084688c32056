#!/usr/bin/env node
/**
 * Fails fast, before `npm ci`, on the two lockfile faults that otherwise surface as an opaque npm
 * error: entries with no version (npm then stops with "Invalid Version") and a lockfile out of
 * sync with a package.json. Exit 1 with what to run; exit 0 and one line when the lockfile is fine.
 */
'use strict';
const { readFileSync, existsSync } = require('node:fs');
const path = require('node:path');

const FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];
const FIX =
  'Regenerate it with this machine\'s npm: "rm -rf node_modules package-lock.json && npm install", ' +
  'check "npm ci --cache $(mktemp -d)" on a fresh clone, and commit package-lock.json.';

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Entries npm cannot read: every installed package must name its version. */
function versionless(lock) {
  return Object.entries(lock.packages ?? {})
    .filter(([key, entry]) => key !== '' && !entry.link && !entry.version)
    .map(([key]) => key);
}

/** Every package.json of the workspace (root first), keyed by its path in the lockfile. */
function manifests(root, lock) {
  const found = [['', readJson(path.join(root, 'package.json'))]];
  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    if (key === '' || key.includes('node_modules') || entry.link) continue;
    const file = path.join(root, key, 'package.json');
    if (existsSync(file)) found.push([key, readJson(file)]);
  }
  return found;
}

/** Differences between what each package.json asks for and what the lockfile recorded. */
function outOfSync(root, lock) {
  const problems = [];
  for (const [key, manifest] of manifests(root, lock)) {
    const entry = lock.packages?.[key];
    const where = key || '(root)';
    if (!entry) {
      problems.push(`${where}: not in the lockfile`);
      continue;
    }
    for (const field of FIELDS) {
      const wanted = manifest[field] ?? {};
      const locked = entry[field] ?? {};
      for (const name of new Set([...Object.keys(wanted), ...Object.keys(locked)]))
        if (wanted[name] !== locked[name])
          problems.push(
            `${where} ${field}.${name}: package.json ${wanted[name] ?? 'has none'}, lockfile ${locked[name] ?? 'has none'}`,
          );
    }
  }
  return problems;
}

function main(root) {
  const lockFile = path.join(root, 'package-lock.json');
  if (!existsSync(lockFile)) return fail(['there is no package-lock.json']);
  const lock = readJson(lockFile);
  const problems = [
    ...versionless(lock).map((key) => `${key}: no version`),
    ...outOfSync(root, lock),
  ];
  if (problems.length > 0) return fail(problems);
  console.log(`lockfile: ${Object.keys(lock.packages ?? {}).length} entries, in sync`);
  return 0;
}

function fail(problems) {
  console.error(`package-lock.json cannot be installed as it is (${problems.length} problems):`);
  for (const problem of problems.slice(0, 20)) console.error(`  - ${problem}`);
  if (problems.length > 20) console.error(`  … and ${problems.length - 20} more`);
  console.error(FIX);
  return 1;
}

module.exports = { versionless, outOfSync };
if (require.main === module) process.exitCode = main(process.argv[2] ?? path.join(__dirname, '..'));
