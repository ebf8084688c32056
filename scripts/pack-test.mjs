#!/usr/bin/env node
// `npm run test:pack`: every package as a merchant installs it from its published tarball.
//
// Builds the workspace, `npm pack`s every packages/* package, checks what each tarball holds
// (LICENSE, README, entry points (main, types, exports, typesVersions, bin; a gateway's ./signing
// subpath ships dist/signing.js and .d.ts), no sources or tests, source maps that carry their
// sources, every runtime require declared), then installs the tarballs into four scratch apps in
// os.tmpdir(), outside the workspace, each with only the packages it uses, and checks each:
//   - esm-ts: ESM, TypeScript strict with module/moduleResolution nodenext, Express 5; type-checked
//     and compiled with the workspace's tsc, then run with node. @payhook/core, newpay-callback and
//     signed-param, deliveries signed with those packages' own signers (imported from their
//     ./signing subpaths) and an RSA pair made here, sent over real HTTP. The roots serve no
//     signer: in the types (a @ts-expect-error) and through require and import.
//   - cjs-js: CommonJS plain JavaScript, Express 4; @payhook/core, payin and testing (Cashy
//     fixtures), and nothing else: @payhook/lailaolab-socket must not resolve, and socket.io
//     (an optional peer of @payhook/testing, for its Lailaolab simulator) is not installed. A payin
//     signed with require('@payhook/payin/signing') is accepted; payin's root serves no signer, in
//     its // @ts-check types (moduleResolution node10: typesVersions) and at run time.
//   - plugin-author: @payhook/core alone (+ @types/node). A gateway plugin in TypeScript as a new
//     author writes one (Kopi Pay, made up: HMAC-SHA256 over a signed Unix time and the body,
//     checkSignedTime, pendingPayment, notAPaymentEvent), importing only @payhook/core/plugin, and
//     its conformance test: runProviderConformance from @payhook/core/testing with describe/it
//     from node:test. `tsc --strict` (nodenext) type-checks and compiles it; `node --test` runs the
//     compiled suite, which must pass (N pass, 0 fail, counted from node's report) and must fail
//     the same plugin with a verify that accepts any signature.
//   - pg-prod: a production install of @payhook/core, payin and postgres (+ pg, express): no
//     socket.io and no @payhook/testing in node_modules; then its `payhook-postgres` bin migrates
//     a fresh schema of the local PostgreSQL (PAYHOOK_TEST_DATABASE_URL, default
//     postgres://postgres@127.0.0.1:5432/test), checks it, and runs a worker that processes one
//     event queued through the package's API until SIGTERM. The schema is dropped at the end.
// Third-party packages come from the registry (the npm cache makes it fast); @payhook/* can only
// come from the tarballs (the scratch apps point the @payhook scope at a closed port).
//
// Options: --no-build (use the current dist/), --keep (leave the temp dir for inspection).
// The last line is `N passed, N failed`; the exit code is 1 when anything failed.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const started = Date.now();

// ---------------------------------------------------------------------------------------------
// Checks and their tally

let passed = 0;
let failed = 0;
/** Set on SIGINT/SIGTERM/SIGHUP: what the killed children make fail is not reported. */
let interrupted = false;

function report(ok, name, detail) {
  if (interrupted) return;
  if (ok) {
    passed += 1;
    console.log(`ok   ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name}`);
    for (const line of String(detail).trimEnd().split('\n')) console.log(`       ${line}`);
  }
}

/** Runs one check; returns its value, or undefined when it failed. */
async function check(name, fn) {
  try {
    const value = await fn();
    report(true, name);
    return value === undefined ? true : value;
  } catch (error) {
    report(false, name, error instanceof Error ? (error.stack ?? error.message) : error);
    return undefined;
  }
}

/** A check that cannot run because an earlier step failed: counted as failed, so totals hold. */
function notRun(name, because) {
  report(false, name, `not run: ${because}`);
}

// ---------------------------------------------------------------------------------------------
// Processes

/** The environment for child npm/node processes, without what `npm run` adds (npm_*). */
function childEnv(extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

/** Every child process still running (servers included): stopped when this run ends. */
const children = new Set();

function run(command, argv, { cwd = root, env = childEnv(), timeoutMs = 180_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

async function runOk(command, argv, options) {
  const result = await run(command, argv, options);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${argv.join(' ')} exited with ${result.code ?? result.signal}\n` +
        `${result.stdout}${result.stderr}`.trim(),
    );
  }
  return result;
}

/** Starts `node <entry>` in an app; it prints one JSON line `{"port": n}` once listening. */
function startServer(cwd, entry, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry], {
      cwd,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    const fail = (why) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${why}\n${stdout}${stderr}`.trim()));
    };
    const timer = setTimeout(() => fail(`${entry} did not listen within 15 s`), 15_000);
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const line = stdout.split('\n').find((l) => l.startsWith('{"port"'));
      if (!line) return;
      clearTimeout(timer);
      resolve({ port: JSON.parse(line).port, child, output: () => stdout + stderr });
    });
    child.on('exit', (code, signal) => {
      children.delete(child);
      fail(`${entry} exited with ${code ?? signal} before listening`);
    });
  });
}

/** Kills every child and waits (up to 5 s) until they are gone, so none writes after cleanup. */
async function stopChildren() {
  const running = [...children].filter((c) => c.exitCode === null && c.signalCode === null);
  const gone = running.map((child) => new Promise((resolve) => child.once('exit', resolve)));
  for (const child of running) child.kill('SIGKILL');
  await Promise.race([Promise.all(gone), delay(5_000, undefined, { ref: false })]);
}

// ---------------------------------------------------------------------------------------------
// Files

function walk(dir, base = dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full, base));
    else out.push(path.relative(base, full).split(path.sep).join('/'));
  }
  return out;
}

function writeFiles(dir, files) {
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
}

const json = (value) => `${JSON.stringify(value, null, 2)}\n`;

// ---------------------------------------------------------------------------------------------
// The packages

const packageDirs = readdirSync(path.join(root, 'packages'))
  .map((name) => path.join(root, 'packages', name))
  .filter((dir) => existsSync(path.join(dir, 'package.json')))
  .sort();
const manifests = new Map(
  packageDirs.map((dir) => [dir, JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'))]),
);
const nameOf = (dir) => manifests.get(dir).name;

/**
 * tsc never deletes output whose source is gone, so a working tree can hold dist files of a moved
 * or deleted module (a clean clone cannot). They would end up in the tarball: remove them.
 */
function pruneOrphanOutput(dir) {
  const dist = path.join(dir, 'dist');
  if (!existsSync(dist)) return [];
  const pruned = [];
  for (const file of walk(dist)) {
    const base = file.replace(/(\.d\.ts\.map|\.js\.map|\.d\.ts|\.js)$/, '');
    if (base === file) continue;
    if (existsSync(path.join(dir, 'src', `${base}.ts`))) continue;
    rmSync(path.join(dist, file));
    pruned.push(`${path.relative(root, dist)}/${file}`);
  }
  return pruned;
}

/** Bare module specifiers a shipped file loads (require, import(), from '...', reference types). */
function bareSpecifiers(text, isDeclaration) {
  const found = new Set();
  const patterns = [/\brequire\(\s*(['"])([^'"]+)\1\s*\)/g, /\bimport\(\s*(['"])([^'"]+)\1\s*\)/g];
  if (isDeclaration) {
    patterns.push(/\bfrom\s+(['"])([^'"]+)\1/g, /^\s*import\s+(['"])([^'"]+)\1/gm);
    patterns.push(/\/\/\/\s*<reference\s+types=(['"])([^'"]+)\1/g);
  }
  // Comments (kept in the build) may quote code; only look at code lines.
  const code = text
    .split('\n')
    .filter((line) => !/^\s*(\*|\/\/(?!\/\s*<reference)|\/\*)/.test(line))
    .join('\n');
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) {
      const spec = match[2];
      if (spec.startsWith('.') || spec.startsWith('/')) continue;
      found.add(spec);
    }
  }
  return found;
}

function packageNameOf(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/**
 * Every file the manifest's main, types, exports, typesVersions and bin name that is not among
 * `files` (patterns with `*` are skipped), each once.
 */
function missingEntryPoints(manifest, files) {
  const targets = [];
  const collect = (value) => {
    if (typeof value === 'string') targets.push(value);
    else if (value && typeof value === 'object') Object.values(value).forEach(collect);
  };
  for (const field of ['main', 'types', 'exports', 'typesVersions', 'bin'])
    collect(manifest[field]);
  const missing = targets
    .map((t) => path.posix.normalize(t))
    .filter((t) => !t.includes('*') && !files.includes(t));
  return [...new Set(missing)];
}

async function checkTarball(extracted, manifest) {
  const files = walk(extracted);
  const read = (file) => readFileSync(path.join(extracted, file), 'utf8');
  await checkTarballFiles(manifest, files, read);
  await checkTarballManifest(manifest, files, read);
}

/** LICENSE and README shipped, nothing that is not for the merchant, source maps complete. */
async function checkTarballFiles(manifest, files, read) {
  const name = manifest.name;
  const has = (file) => files.includes(file);

  await check(
    `${name}: tarball holds LICENSE (MIT), README.md, dist/index.js, dist/index.d.ts`,
    () => {
      const missing = ['LICENSE', 'README.md', 'dist/index.js', 'dist/index.d.ts'].filter(
        (f) => !has(f),
      );
      assert.deepEqual(missing, [], `missing from the tarball: ${missing.join(', ')}`);
      const license = read('LICENSE');
      assert.match(license, /^MIT License/, 'LICENSE is not the MIT licence');
      assert.match(license, /Copyright \(c\) 2026 payhook contributors/, 'LICENSE copyright line');
      assert.equal(manifest.license, 'MIT', 'package.json "license"');
    },
  );

  await check(`${name}: tarball ships no src/, test/ or build config files`, () => {
    const unwanted = files.filter(
      (f) =>
        /^(src|test|tests|__tests__)\//.test(f) ||
        /\.(test|spec)\.[cm]?[jt]s$/.test(f) ||
        /(^|\/)tsconfig[^/]*\.json$/.test(f) ||
        /\.tsbuildinfo$/.test(f) ||
        (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)),
    );
    assert.deepEqual(unwanted, [], `shipped: ${unwanted.join(', ')}`);
  });

  await check(`${name}: every source map carries its sources`, () => {
    const maps = files.filter((f) => f.endsWith('.map'));
    const problems = [];
    for (const file of maps) {
      const map = JSON.parse(read(file));
      const sources = map.sources ?? [];
      sources.forEach((source, i) => {
        const content = map.sourcesContent?.[i];
        if (typeof content === 'string') return;
        // A declaration map cannot inline sources: then the source must be shipped beside it.
        const shipped = path.posix.normalize(
          path.posix.join(path.posix.dirname(file), map.sourceRoot ?? '', source),
        );
        if (!has(shipped)) problems.push(`${file}: no sourcesContent for ${source}`);
      });
    }
    const jsFiles = files.filter((f) => f.endsWith('.js') && f.startsWith('dist/'));
    for (const file of jsFiles) {
      const ref = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(read(file));
      if (ref && !ref[1].startsWith('data:')) {
        const target = path.posix.join(path.posix.dirname(file), ref[1]);
        if (!has(target)) problems.push(`${file}: points at ${ref[1]}, not shipped`);
      }
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  });
}

/** Entry points shipped, the ./signing subpath complete, every dependency declared. */
async function checkTarballManifest(manifest, files, read) {
  const name = manifest.name;
  await check(`${name}: main, types, exports, typesVersions and bin point at shipped files`, () => {
    const missing = missingEntryPoints(manifest, files);
    assert.deepEqual(missing, [], `not in the tarball: ${missing.join(', ')}`);
  });

  // The gateways serve their signers on ./signing (exports for node16+/nodenext and for require,
  // typesVersions for moduleResolution node10), no longer from the root.
  if (manifest.exports?.['./signing']) {
    await check(
      `${name}: ./signing (exports + typesVersions) ships dist/signing.js and .d.ts; a missing one is caught`,
      () => {
        assert.deepEqual(manifest.exports['./signing'], {
          types: './dist/signing.d.ts',
          default: './dist/signing.js',
        });
        assert.deepEqual(manifest.typesVersions?.['*']?.signing, ['dist/signing.d.ts']);
        for (const file of ['dist/signing.js', 'dist/signing.d.ts']) {
          assert.ok(files.includes(file), `${file} is not in the tarball`);
          const without = files.filter((f) => f !== file);
          assert.deepEqual(missingEntryPoints(manifest, without), [file], `without ${file}`);
        }
      },
    );
  }

  await check(
    `${name}: every bare require/import in dist is a dependency, a peer or a builtin`,
    () => {
      const declared = new Set([
        name,
        ...Object.keys(manifest.dependencies ?? {}),
        ...Object.keys(manifest.peerDependencies ?? {}),
        ...Object.keys(manifest.optionalDependencies ?? {}),
      ]);
      const undeclared = [];
      for (const file of files.filter((f) => /^dist\/.*(\.[cm]?js|\.d\.ts)$/.test(f))) {
        for (const spec of bareSpecifiers(read(file), file.endsWith('.d.ts'))) {
          if (builtins.has(spec) || declared.has(packageNameOf(spec))) continue;
          undeclared.push(`${file}: ${spec}`);
        }
      }
      assert.deepEqual(undeclared, [], `undeclared: ${undeclared.join(', ')}`);
    },
  );

  if (name !== '@payhook/testing') {
    await check(`${name}: "dependencies" do not pull @payhook/testing (the test signers)`, () => {
      const deps = { ...manifest.dependencies, ...manifest.optionalDependencies };
      assert.ok(!Object.hasOwn(deps, '@payhook/testing'), `${name} depends on @payhook/testing`);
    });
  }
  // Not even @payhook/testing: only its Lailaolab simulator uses socket.io, an optional peer.
  await check(`${name}: "dependencies" do not pull socket.io (the server)`, () => {
    const deps = { ...manifest.dependencies, ...manifest.optionalDependencies };
    assert.ok(
      !Object.hasOwn(deps, 'socket.io'),
      `${name} depends on socket.io ${deps['socket.io']}: it may only be an optional peer`,
    );
  });
  if (name === '@payhook/testing') {
    await check(`${name}: socket.io is an optional peer (the Lailaolab simulator's)`, () => {
      assert.ok(manifest.peerDependencies?.['socket.io'], 'no socket.io peer');
      assert.deepEqual(manifest.peerDependenciesMeta?.['socket.io'], { optional: true });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// The scratch apps

/** .npmrc of a scratch app: @payhook/* only from the tarballs, never from a registry. */
const SCRATCH_NPMRC = [
  '@payhook:registry=http://127.0.0.1:9/',
  'fetch-retries=0',
  'audit=false',
  'fund=false',
  'update-notifier=false',
  '',
].join('\n');

/**
 * The gateways serve their signers on `<package>/signing`, no longer from the root (bcb733b): per
 * package, one signer that must be on ./signing only, and the root's middleware as a control.
 */
const SIGNING_SPLIT = {
  '@payhook/newpay-callback': { signer: 'signV1Callback', root: 'createNewpayMiddleware' },
  '@payhook/signed-param': { signer: 'buildNotification', root: 'createSignedParamMiddleware' },
  '@payhook/payin': { signer: 'buildCashyMessage', root: 'createPayinMiddleware' },
};

/** Run in an app with package names: the functions each root and ./signing export, as JSON. */
const SUBPATH_PROBES = {
  'probe-subpaths.cjs': `'use strict';
const functions = (m) => Object.keys(m).filter((k) => typeof m[k] === 'function').sort();
const found = {};
for (const name of process.argv.slice(2)) {
  found[name] = { root: functions(require(name)), signing: functions(require(name + '/signing')) };
}
console.log(JSON.stringify(found));
`,
  'probe-subpaths.mjs': `const functions = (m) => Object.keys(m).filter((k) => typeof m[k] === 'function').sort();
const found = {};
for (const name of process.argv.slice(2)) {
  const [root, signing] = [await import(name), await import(name + '/signing')];
  found[name] = { root: functions(root), signing: functions(signing) };
}
console.log(JSON.stringify(found));
`,
};

/** The compiler options of a strict ESM TypeScript app (esm-ts, plugin-author). */
const STRICT_NODENEXT = {
  target: 'ES2022',
  lib: ['ES2022'],
  module: 'nodenext',
  moduleResolution: 'nodenext',
  strict: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: false,
  types: ['node'],
};

const ESM_APP = {
  'package.json': json({ name: 'payhook-pack-esm', private: true, type: 'module' }),
  'tsconfig.json': json({
    compilerOptions: { ...STRICT_NODENEXT, rootDir: 'src', outDir: 'dist' },
    include: ['src'],
  }),
  // The split in nodenext types (package.json "exports"), type-checked on its own (no output).
  'tsconfig.subpaths.json': json({
    extends: './tsconfig.json',
    compilerOptions: { rootDir: '.', noEmit: true },
    include: ['types'],
  }),
  'types/subpaths.ts': `import * as newpay from '@payhook/newpay-callback';
import { signV1Callback } from '@payhook/newpay-callback/signing';
import * as signedParam from '@payhook/signed-param';
import { buildNotification } from '@payhook/signed-param/signing';

// @ts-expect-error the signers left the root for ./signing
newpay.signV1Callback;
// @ts-expect-error the signers left the root for ./signing
signedParam.buildNotification;

export const signers: Array<(...args: never[]) => unknown> = [signV1Callback, buildNotification];
export const roots = [newpay.createNewpayMiddleware, signedParam.createSignedParamMiddleware];
`,
  ...SUBPATH_PROBES,
  'src/server.ts': `import type { AddressInfo } from 'node:net';
import express from 'express';
import { createPaymentHub, type PaymentEvent } from '@payhook/core';
import { createNewpayMiddleware } from '@payhook/newpay-callback';
import { createSignedParamMiddleware } from '@payhook/signed-param';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error('missing ' + name);
  return value;
}

interface Seen {
  provider: string;
  orderId: string | null;
  amount: string;
  currency: string | null;
}

const completed: Seen[] = [];
const hub = createPaymentHub();
hub.on('payment.completed', async (event: PaymentEvent) => {
  completed.push({
    provider: event.provider,
    orderId: event.orderId,
    amount: event.amount,
    currency: event.currency,
  });
});

const platformPublicKey = env('PLATFORM_PUBLIC_KEY');
const app = express();
app.use('/webhooks/newpay', createNewpayMiddleware(hub, { platformPublicKey, appId: '6' }));
app.use(
  '/webhooks/paycools',
  createSignedParamMiddleware(hub, { id: 'paycools', platformPublicKey, country: 'PH' }),
);
app.use(express.json());
app.get('/completed', (_req, res) => {
  res.json(completed);
});

const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(JSON.stringify({ port }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`,
  'src/gateway.ts': `// The gateways' side, signed with the plugins' own exported signers.
import { jsonNumber } from '@payhook/core/plugin';
import { signV1Callback, type SignedDelivery } from '@payhook/newpay-callback/signing';
import { buildNotification, type SignedParamNotification } from '@payhook/signed-param/signing';

export function newpayPayment(
  platformPrivateKey: string,
  orderNo: string,
  amount: string,
): SignedDelivery {
  return signV1Callback(
    {
      orderNo,
      subject: 'pack test order',
      transInfo: 'Transaction Success',
      orderAmt: amount,
      newpayOrderNo: '202601150000004242',
      settlementStatus: jsonNumber('1'),
      payMethod: jsonNumber('1'),
      extra: '',
      appId: jsonNumber('6'),
      currency: 'LAK',
      transStatus: jsonNumber('0'),
      timestamp: jsonNumber(String(Date.now())),
    },
    platformPrivateKey,
  );
}

/** The platform signs Manila wall times (PH channels); it refuses one older than 24 h. */
const manilaWallTime = (ms: number): string =>
  new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');

export function paycoolsPayment(
  platformPrivateKey: string,
  mchOrderId: string,
  amountInCentavos: number,
): { body: string; headers: Record<string, string> } {
  const signed: SignedParamNotification = buildNotification(
    {
      eventName: 'order.payment.success',
      amount: amountInCentavos,
      channelCode: 'PH_QRPH_DYNAMIC',
      mchOrderId,
      createTime: manilaWallTime(Date.now() - 120_000),
      remark: 'pack test payment',
      returnTime: manilaWallTime(Date.now()),
      transactionId: 'C2026011500000004242',
      transactionStatus: 'COMPLETED',
    },
    platformPrivateKey,
  );
  return { body: signed.body, headers: signed.headers };
}
`,
};

const CJS_APP = {
  'package.json': json({ name: 'payhook-pack-cjs', private: true, type: 'commonjs' }),
  'server.js': `'use strict';
const express = require('express');
const { createPaymentHub } = require('@payhook/core');
// The plugin toolkit's subpath resolves from CommonJS too (exports + typesVersions).
const { decimalToMinorUnits } = require('@payhook/core/plugin');
const { createPayinMiddleware } = require('@payhook/payin');

const completed = [];
const hub = createPaymentHub();
hub.on('payment.completed', async (event) => {
  completed.push({
    provider: event.provider,
    orderId: event.orderId,
    amount: event.amount,
    minor: decimalToMinorUnits(event.amount, 2),
    currency: event.currency,
  });
});

const app = express();
app.use('/webhooks/cashy', createPayinMiddleware(hub, JSON.parse(process.env.CASHY_OPTIONS)));
app.use(express.json());
app.get('/completed', (_req, res) => res.json(completed));

const server = app.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`,
  // The merchant's test helper: Cashy deliveries from @payhook/testing's fixtures, and one signed
  // by hand with the plugin's own signer from @payhook/payin/signing.
  'gateway.js': `'use strict';
const { instantToIso, jsonNumber } = require('@payhook/core/plugin');
const { buildCashyMessage } = require('@payhook/payin/signing');
const { createCashyFixtures } = require('@payhook/testing');

const cashy = createCashyFixtures();
const { merchantId, apiKey, timeZone } = cashy.providerOptions;

/** Cashy's wall time for now, as its webhooks write it ("2026-01-15 10:00:00"). */
const wallTime = () =>
  instantToIso(Math.floor(Date.now() / 1000) * 1000, timeZone).slice(0, 19).replace('T', ' ');

/** A paid payin built and signed here with the plugin's own signer, field order as Cashy's. */
function signedByHand(mchOrderNo, amount) {
  const orderNo = 'PAYIN2026011500000004242';
  const body = {
    orderStatus: 'SUCCESS',
    amount: jsonNumber(amount),
    fee: jsonNumber('0'),
    mchOrderNo,
    merchantId,
    payDeskUrl: null,
    orderNo,
    payUrl: null,
    patchOrderNo: orderNo,
    patchMchOrderNo: mchOrderNo,
    orderType: 'API',
    completionTime: wallTime(),
    nonceStr: '4242424242',
  };
  return buildCashyMessage(body, { merchantId, apiKey });
}

module.exports = {
  providerOptions: cashy.providerOptions,
  payin: (mchOrderNo, amount) => cashy.payin({ mchOrderNo, amount }),
  signedByHand,
};
`,
  // The split in CommonJS types: an editor's // @ts-check (moduleResolution node10, which reads
  // package.json "typesVersions", not "exports").
  'tsconfig.json': json({
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2022'],
      module: 'commonjs',
      moduleResolution: 'node10',
      allowJs: true,
      checkJs: true,
      noEmit: true,
      strict: true,
      types: ['node'],
    },
    files: ['types-probe.js'],
  }),
  'types-probe.js': `// @ts-check
'use strict';
const payin = require('@payhook/payin');
const { buildCashyMessage } = require('@payhook/payin/signing');

// @ts-expect-error the signers left the root for ./signing
payin.buildCashyMessage;

/** @type {import('@payhook/payin/signing').SignedCashyMessage} */
const signed = buildCashyMessage({ orderStatus: 'SUCCESS' }, { merchantId: 'M1', apiKey: 'key' });
module.exports = { signed, root: payin.createPayinMiddleware };
`,
  ...SUBPATH_PROBES,
};

/** Changes one byte of `body`: the last digit of the first `needle`. */
function forgeOneByte(body, needle) {
  const at = body.indexOf(needle);
  assert.ok(at >= 0, `${needle} not in the body`);
  const i = at + needle.length - 1;
  const digit = Number(body[i]);
  assert.ok(Number.isInteger(digit), `${needle} does not end with a digit`);
  const forged = `${body.slice(0, i)}${(digit + 1) % 10}${body.slice(i + 1)}`;
  const a = Buffer.from(body);
  const b = Buffer.from(forged);
  assert.equal(a.length, b.length);
  assert.equal(a.filter((byte, k) => byte !== b[k]).length, 1);
  return forged;
}

async function post(port, route, delivery) {
  const response = await fetch(`http://127.0.0.1:${port}${route}`, {
    method: 'POST',
    headers: delivery.headers,
    body: delivery.body,
  });
  return { status: response.status, text: await response.text() };
}

async function completedOn(port) {
  const response = await fetch(`http://127.0.0.1:${port}/completed`);
  assert.equal(response.status, 200);
  return response.json();
}

function installedScope(app) {
  const dir = path.join(app, 'node_modules', '@payhook');
  return existsSync(dir) ? readdirSync(dir).map((n) => `@payhook/${n}`) : [];
}

const tarballOf = (tarballs, name) => {
  const file = tarballs.get(name);
  if (!file) throw new Error(`no tarball for ${name}`);
  return file;
};

async function install(app, specs) {
  const t0 = Date.now();
  await runOk('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...specs], {
    cwd: app,
  });
  return Date.now() - t0;
}

/** The workspace's TypeScript compiler: the scratch apps install no typescript of their own. */
const TSC = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/** What the probes found: each root serves its middleware and no signer; ./signing the signer. */
function assertSplit(found, names, probe) {
  for (const name of names) {
    const { signer, root: control } = SIGNING_SPLIT[name];
    const { root: rootFunctions, signing } = found[name];
    assert.ok(rootFunctions.includes(control), `${probe}: ${name} has no ${control}`);
    assert.ok(signing.includes(signer), `${probe}: ${name}/signing has no ${signer}`);
    const leaked = signing.filter((f) => rootFunctions.includes(f));
    assert.deepEqual(leaked, [], `${probe}: the root of ${name} still serves ${leaked.join(', ')}`);
  }
}

function signingSplitName(label, names) {
  const short = names.map((n) => n.replace('@payhook/', '')).join(', ');
  return `${label}: ${short}: signers on ./signing only, not on the root (tsc, require, import)`;
}

/**
 * The signers are on ./signing and not on the roots, in the app's types (its tsconfig, which
 * @ts-expect-errors a root signer) and at run time through require and import alike.
 */
function checkSigningSplit(app, label, names, tsconfig) {
  return check(signingSplitName(label, names), async () => {
    await runOk(process.execPath, [TSC, '-p', path.join(app, tsconfig)], { cwd: app });
    for (const probe of Object.keys(SUBPATH_PROBES)) {
      const { stdout } = await runOk(process.execPath, [probe, ...names], { cwd: app });
      assertSplit(JSON.parse(stdout), names, probe);
    }
  });
}

async function esmApp(scratch, tarballs, keys) {
  const app = path.join(scratch, 'esm-ts');
  const label = 'esm-ts (ESM, TypeScript strict nodenext, Express 5)';
  writeFiles(app, { ...ESM_APP, '.npmrc': SCRATCH_NPMRC });
  const wanted = ['@payhook/core', '@payhook/newpay-callback', '@payhook/signed-param'];

  const installed = await check(`${label}: npm install of 3 tarballs + express@5`, async () => {
    const ms = await install(app, [
      ...wanted.map((n) => tarballOf(tarballs, n)),
      'express@^5',
      '@types/express@^5',
      '@types/node@^20',
    ]);
    console.log(`       ${label}: install took ${(ms / 1000).toFixed(1)} s`);
  });
  const later = [
    'only its @payhook packages are installed',
    'tsc type-checks and compiles it',
    'the server starts',
    'NewPay v1 callback signed with signV1Callback: 200 {"transResult":"SUCCESS"}, listener ran',
    'NewPay callback with one byte changed: 401, listener not run',
    'signed-param notification signed with buildNotification: 200 {"code":10000,...}, listener ran',
    'signed-param notification with one byte changed: 401, listener not run',
  ];
  if (!installed) {
    notRun(signingSplitName(label, wanted.slice(1)), 'install failed');
    return later.forEach((n) => notRun(`${label}: ${n}`, 'install failed'));
  }

  await check(`${label}: ${later[0]}`, () => {
    assert.deepEqual(installedScope(app).sort(), [...wanted].sort());
  });
  await checkSigningSplit(app, label, wanted.slice(1), 'tsconfig.subpaths.json');

  const compiled = await check(`${label}: ${later[1]}`, async () => {
    await runOk(process.execPath, [TSC, '-p', path.join(app, 'tsconfig.json')], { cwd: app });
    assert.ok(existsSync(path.join(app, 'dist', 'server.js')));
  });
  if (!compiled) return later.slice(2).forEach((n) => notRun(`${label}: ${n}`, 'tsc failed'));

  const server = await check(`${label}: ${later[2]}`, () =>
    startServer(app, 'dist/server.js', { PLATFORM_PUBLIC_KEY: keys.publicKey }),
  );
  if (!server) return later.slice(3).forEach((n) => notRun(`${label}: ${n}`, 'no server'));
  await esmDeliveries(app, label, later.slice(3), server.port, keys);
}

/** The esm-ts app's deliveries, signed by its compiled gateway.js, sent to its server. */
async function esmDeliveries(app, label, names, port, keys) {
  let gateway;
  try {
    gateway = await import(pathToFileURL(path.join(app, 'dist', 'gateway.js')).href);
  } catch (error) {
    gateway = { error };
  }
  const signer = (name) => {
    if (gateway.error) throw gateway.error;
    return gateway[name];
  };
  const seen = async (provider) => (await completedOn(port)).filter((e) => e.provider === provider);

  const newpay = await check(`${label}: ${names[0]}`, async () => {
    const delivery = signer('newpayPayment')(keys.privateKey, 'PACK-NP-1', '15000.00');
    const reply = await post(port, '/webhooks/newpay', delivery);
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(JSON.parse(reply.text), { transResult: 'SUCCESS' });
    assert.deepEqual(await seen('newpay'), [
      { provider: 'newpay', orderId: 'PACK-NP-1', amount: '15000.00', currency: 'LAK' },
    ]);
    return delivery;
  });
  await check(`${label}: ${names[1]}`, async () => {
    const delivery = newpay ?? signer('newpayPayment')(keys.privateKey, 'PACK-NP-1', '15000.00');
    const body = forgeOneByte(delivery.body, '"orderAmt":"15000.00');
    const before = (await seen('newpay')).length;
    const reply = await post(port, '/webhooks/newpay', { ...delivery, body });
    assert.equal(reply.status, 401, reply.text);
    assert.equal((await seen('newpay')).length, before, 'the listener ran on a forgery');
  });

  const paycools = await check(`${label}: ${names[2]}`, async () => {
    const delivery = signer('paycoolsPayment')(keys.privateKey, 'PACK-SP-1', 50010);
    const reply = await post(port, '/webhooks/paycools', delivery);
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(JSON.parse(reply.text), { code: 10000, message: 'Success' });
    assert.deepEqual(await seen('paycools'), [
      { provider: 'paycools', orderId: 'PACK-SP-1', amount: '500.10', currency: 'PHP' },
    ]);
    return delivery;
  });
  await check(`${label}: ${names[3]}`, async () => {
    const delivery = paycools ?? signer('paycoolsPayment')(keys.privateKey, 'PACK-SP-1', 50010);
    const body = forgeOneByte(delivery.body, '\\"amount\\":50010');
    const before = (await seen('paycools')).length;
    const reply = await post(port, '/webhooks/paycools', { ...delivery, body });
    assert.equal(reply.status, 401, reply.text);
    assert.equal((await seen('paycools')).length, before, 'the listener ran on a forgery');
  });
}

async function cjsApp(scratch, tarballs) {
  const app = path.join(scratch, 'cjs-js');
  const label = 'cjs-js (CommonJS JavaScript, Express 4)';
  writeFiles(app, { ...CJS_APP, '.npmrc': SCRATCH_NPMRC });
  const wanted = ['@payhook/core', '@payhook/payin', '@payhook/testing'];

  const installed = await check(
    `${label}: npm install of 3 tarballs + express@4 (+ @types/node for its // @ts-check)`,
    async () => {
      const specs = [...wanted.map((n) => tarballOf(tarballs, n)), 'express@^4', '@types/node@^20'];
      const ms = await install(app, specs);
      console.log(`       ${label}: install took ${(ms / 1000).toFixed(1)} s`);
    },
  );
  const later = [
    'only its @payhook packages are installed; @payhook/lailaolab-socket does not resolve',
    'the server starts',
    '@payhook/testing loads beside core + payin alone (createCashyFixtures)',
    'Cashy payin from createCashyFixtures: 200 SUCCESS, listener ran',
    'Cashy payin with one byte changed: 401, listener not run',
    "Cashy payin signed with require('@payhook/payin/signing').buildCashyMessage: 200 SUCCESS",
    'no socket.io or engine.io installed; the simulator names the install',
  ];
  if (!installed) {
    notRun(signingSplitName(label, ['@payhook/payin']), 'install failed');
    return later.forEach((n) => notRun(`${label}: ${n}`, 'install failed'));
  }

  await check(`${label}: ${later[0]}`, async () => {
    assert.deepEqual(installedScope(app).sort(), [...wanted].sort());
    const probe = await run(
      process.execPath,
      ['-e', "require('@payhook/lailaolab-socket'); console.log('resolved')"],
      { cwd: app },
    );
    assert.notEqual(probe.code, 0, 'require("@payhook/lailaolab-socket") succeeded');
    assert.match(probe.stderr, /MODULE_NOT_FOUND|Cannot find module '@payhook\/lailaolab-socket'/);
  });
  await checkSigningSplit(app, label, ['@payhook/payin'], 'tsconfig.json');
  await checkNoSimulator(app, `${label}: ${later[6]}`);

  // The fixtures make the provider options too, so a failure to load them stops the server.
  let gateway;
  const loaded = await check(`${label}: ${later[2]}`, () => {
    gateway = createRequire(path.join(app, 'package.json'))('./gateway.js');
    assert.equal(typeof gateway.payin, 'function');
  });
  if (!loaded) return [1, 3, 4, 5].forEach((i) => notRun(`${label}: ${later[i]}`, later[2]));

  const server = await check(`${label}: ${later[1]}`, () =>
    startServer(app, 'server.js', { CASHY_OPTIONS: JSON.stringify(gateway.providerOptions) }),
  );
  if (!server) return later.slice(3, 6).forEach((n) => notRun(`${label}: ${n}`, 'no server'));
  await cjsDeliveries(label, later.slice(3, 6), server.port, gateway);
}

/**
 * @payhook/testing without its simulator: socket.io (an optional peer) is not installed, and the
 * simulator says what to install.
 */
function checkNoSimulator(app, name) {
  return check(name, async () => {
    for (const absent of ['socket.io', 'engine.io'])
      assert.ok(!existsSync(path.join(app, 'node_modules', absent)), `node_modules/${absent}`);
    const bin = path.join(app, 'node_modules', '@payhook', 'testing', 'bin', 'payhook.js');
    const simulate = await run(process.execPath, [bin, 'simulate', 'lailaolab'], { cwd: app });
    assert.equal(simulate.code, 2, `exit ${simulate.code}\n${simulate.stdout}${simulate.stderr}`);
    assert.equal(
      simulate.stderr,
      'payhook: payhook simulate lailaolab needs socket.io: npm install -D socket.io\n',
    );
  });
}

/** The cjs-js app's Cashy deliveries: from the fixtures, forged, and signed by hand. */
async function cjsDeliveries(label, names, port, gateway) {
  const seen = async () => (await completedOn(port)).filter((e) => e.provider === 'cashy');
  const event = (orderId, amount, minor) => ({
    provider: 'cashy',
    orderId,
    amount,
    minor,
    currency: 'IDR',
  });
  const delivery = gateway.payin('PACK-CY-1', '100.10');
  await check(`${label}: ${names[0]}`, async () => {
    const reply = await post(port, '/webhooks/cashy', delivery);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.text, 'SUCCESS');
    assert.deepEqual(await seen(), [event('PACK-CY-1', '100.10', '10010')]);
  });
  await check(`${label}: ${names[1]}`, async () => {
    const body = forgeOneByte(delivery.body, '"amount":100.10');
    const before = (await seen()).length;
    const reply = await post(port, '/webhooks/cashy', { ...delivery, body });
    assert.equal(reply.status, 401, reply.text);
    assert.equal((await seen()).length, before, 'the listener ran on a forgery');
  });
  await check(`${label}: ${names[2]}`, async () => {
    const reply = await post(port, '/webhooks/cashy', gateway.signedByHand('PACK-CY-2', '250.50'));
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.text, 'SUCCESS');
    const found = (await seen()).filter((e) => e.orderId === 'PACK-CY-2');
    assert.deepEqual(found, [event('PACK-CY-2', '250.50', '25050')]);
  });
}

// ---------------------------------------------------------------------------------------------
// plugin-author: a gateway plugin on @payhook/core alone, its conformance under node:test

// A gateway plugin as a new author writes one: Kopi Pay, a made-up gateway signing JSON with
// HMAC-SHA256 over a timestamp and the body. The plugin imports only @payhook/core/plugin, its
// tests @payhook/core/testing and node:test. broken/ is the same plugin with the signature check
// taken out: the conformance suite must fail it.
const PLUGIN_APP = {
  'package.json': json({ name: 'payhook-pack-plugin-author', private: true, type: 'module' }),
  'tsconfig.json': json({
    compilerOptions: { ...STRICT_NODENEXT, rootDir: '.', outDir: 'dist' },
    include: ['src', 'test', 'broken'],
  }),
  'src/schema.ts': `import { DECIMAL_PATTERN } from '@payhook/core/plugin';

/** The package name: it starts every error message. */
export const SOURCE = 'payhook-kopi';

/**
 * Kopi Pay, a made-up gateway: it POSTs JSON with
 * \`kopi-signature: t=<unix seconds>,v1=hex(HMAC-SHA256(secret, t + "." + body))\`, amounts as JSON
 * numbers in major units, times in Bangkok wall time, and expects the text \`OK\`.
 */
export interface KopiNotice {
  event: string; // 'payment.paid', 'payment.failed', 'payment.processing', or anything else
  payment_id: string;
  merchant_ref?: string;
  amount: string; // parsed as its exact text: 1250.50 stays "1250.50"
  currency: string;
  paid_at: string; // "2026-01-15 10:00:00", Asia/Bangkok wall time
  failure_reason?: string;
}

export const kopiSchema = {
  type: 'object',
  required: ['event', 'payment_id', 'amount', 'currency', 'paid_at'],
  properties: {
    event: { type: 'string' },
    payment_id: { type: 'string', minLength: 1 },
    merchant_ref: { type: 'string' },
    amount: { type: 'string', pattern: DECIMAL_PATTERN },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    paid_at: { type: 'string' },
    failure_reason: { type: 'string' },
  },
};
`,
  'src/verify.ts': `import {
  SignatureError,
  checkSignedTime,
  hmacSha256Hex,
  parseJson,
  timingSafeEqualHex,
  verified,
  type Delivery,
  type MaxAge,
  type VerifiedPayload,
} from '@payhook/core/plugin';
import { SOURCE, type KopiNotice } from './schema.js';

const HEADER = /^t=(\\d{1,12}),v1=([0-9a-f]{64})$/;

/** What Kopi signs: the header's time, a dot, and the body bytes exactly as sent. */
export function signedBytes(t: string, body: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from(\`\${t}.\`), typeof body === 'string' ? Buffer.from(body) : body]);
}

/** Signature first (the secrets of a rotation in order), then the signed time, then the JSON. */
export function verifyKopi(
  delivery: Delivery,
  secrets: readonly string[],
  limits: MaxAge,
): VerifiedPayload<KopiNotice> {
  const header = delivery.headers['kopi-signature'];
  if (typeof header !== 'string' || header.length === 0)
    throw new SignatureError('kopi-signature header is missing', {
      code: 'ERR_SIGNATURE_MISSING',
      source: SOURCE,
    });
  const [, t, signature] = HEADER.exec(header.trim()) ?? [];
  if (t === undefined || signature === undefined)
    throw new SignatureError('kopi-signature is not t=<seconds>,v1=<hex>', { source: SOURCE });
  const data = signedBytes(t, delivery.body);
  const keyIndex = secrets.findIndex((secret) =>
    timingSafeEqualHex(hmacSha256Hex(secret, data), signature),
  );
  if (keyIndex < 0)
    throw new SignatureError('signature does not match the body', { source: SOURCE });
  checkSignedTime(Number(t) * 1000, limits, { what: 'kopi-signature t', source: SOURCE });
  const notice = parseJson(delivery.body, { numbers: 'text', source: SOURCE }) as KopiNotice;
  return verified(notice, { keyIndex });
}
`,
  'src/normalize.ts': `import {
  normalizeDecimal,
  notAPaymentEvent,
  parseGatewayTime,
  pendingPayment,
  type NormalizeResult,
  type PaymentEventDraft,
} from '@payhook/core/plugin';
import { SOURCE, type KopiNotice } from './schema.js';

/** Every Kopi event that is a payment outcome; any other name is "not a payment event". */
const OUTCOMES = new Map<string, PaymentEventDraft['type']>([
  ['payment.paid', 'payment.completed'],
  ['payment.failed', 'payment.failed'],
]);

export function normalizeKopi(raw: KopiNotice, timeZone: string): NormalizeResult<KopiNotice> {
  if (raw.event === 'payment.processing') return pendingPayment('payment.processing');
  const type = OUTCOMES.get(raw.event);
  if (!type) return notAPaymentEvent(\`event \${raw.event}\`);
  return [
    {
      id: \`\${raw.payment_id}:\${type}\`, // stable across redeliveries
      type,
      orderId: raw.merchant_ref ?? null,
      transactionId: raw.payment_id,
      amount: normalizeDecimal(raw.amount, { scale: 2, field: 'amount', source: SOURCE }),
      currency: raw.currency,
      occurredAt: parseGatewayTime(raw.paid_at, { timeZone, field: 'paid_at', source: SOURCE }),
      ...(type === 'payment.failed' ? { failure: { code: raw.failure_reason } } : {}),
    },
  ];
}
`,
  'src/options.ts': `import {
  assertTimeZone,
  checkRequiredText,
  optionFailer,
  resolveMaxAge,
  type MaxAge,
  type MaxAgeOptions,
  type OptionFailer,
  type WebhookMiddlewareOptions,
} from '@payhook/core/plugin';
import { SOURCE } from './schema.js';

export interface KopiOptions extends MaxAgeOptions {
  /** The webhook secret; during a rotation, a list (old and new), tried in that order. */
  secret: string | readonly string[];
  /** IANA zone of \`paid_at\` (default Asia/Bangkok). */
  timeZone?: string;
}

/** The provider's options plus the adapter's (\`limit\`, \`onResult\`). */
export interface KopiMiddlewareOptions extends KopiOptions, WebhookMiddlewareOptions {}

const fail: OptionFailer = optionFailer(SOURCE);

/** Checked at construction: a missing secret fails at boot, not at the first payment. */
export function readKopiOptions(options: KopiOptions): {
  secrets: string[];
  timeZone: string;
  limits: MaxAge;
} {
  const given = options?.secret;
  const list: readonly unknown[] = Array.isArray(given) ? given : [given];
  if (list.length === 0) fail('secret', 'must hold at least one secret');
  const secrets = list.map((secret, i) =>
    checkRequiredText(
      secret,
      Array.isArray(given) ? \`secret[\${i}]\` : 'secret',
      'the webhook secret in the Kopi dashboard',
      SOURCE,
    ),
  );
  const timeZone = assertTimeZone(options.timeZone ?? 'Asia/Bangkok', 'timeZone', SOURCE);
  return { secrets, timeZone, limits: resolveMaxAge(options, SOURCE) };
}
`,
  'src/provider.ts': `import {
  createGatewayMiddleware,
  defineProvider,
  type GatewayMiddleware,
  type PaymentHub,
  type PaymentProvider,
  type ProviderDefinition,
} from '@payhook/core/plugin';
import { normalizeKopi } from './normalize.js';
import { readKopiOptions, type KopiMiddlewareOptions, type KopiOptions } from './options.js';
import { SOURCE, kopiSchema, type KopiNotice } from './schema.js';
import { verifyKopi } from './verify.js';

export function kopiDefinition(options: KopiOptions): ProviderDefinition<KopiNotice> {
  const { secrets, timeZone, limits } = readKopiOptions(options);
  return {
    id: 'kopi', // prefixes every event id and store key
    source: SOURCE,
    schema: kopiSchema,
    verify: (delivery) => verifyKopi(delivery, secrets, limits),
    normalize: (raw) => normalizeKopi(raw, timeZone),
    ack: {
      ok: { body: 'OK', contentType: 'text/plain' },
      retry: { status: 503, body: 'RETRY', contentType: 'text/plain' },
    },
    maxAgeMs: limits.maxAgeMs, // the hub checks at mount that it remembers longer
    clockSkewMs: limits.clockSkewMs,
    eventTypes: ['payment.completed', 'payment.failed'], // Kopi sends no refunds
  };
}

export function createKopiProvider(options: KopiOptions): PaymentProvider<KopiNotice> {
  return defineProvider(kopiDefinition(options));
}

/** \`app.use('/webhooks/kopi', createKopiMiddleware(hub, options))\`; \`.provider\` is its provider. */
export function createKopiMiddleware(
  hub: PaymentHub,
  options: KopiMiddlewareOptions,
): GatewayMiddleware<KopiNotice> {
  return createGatewayMiddleware(hub, options, createKopiProvider);
}
`,
  'src/sign.ts': `import { hmacSha256Hex, stringifyJson, type JsonValue } from '@payhook/core/plugin';
import { signedBytes } from './verify.js';

/**
 * Kopi's side of the wire, for tests: the body bytes and headers Kopi sends, signed at \`at\` (epoch
 * ms). A string is signed as it is (to build malformed deliveries that are still signed).
 */
export function signKopi(
  payload: { readonly [key: string]: JsonValue } | string,
  secret: string,
  at: number = Date.now(),
): { body: string; headers: Record<string, string> } {
  const body = typeof payload === 'string' ? payload : stringifyJson(payload);
  const t = String(Math.floor(at / 1000));
  const v1 = hmacSha256Hex(secret, signedBytes(t, body));
  return {
    body,
    headers: { 'content-type': 'application/json', 'kopi-signature': \`t=\${t},v1=\${v1}\` },
  };
}
`,
  'src/index.ts': `export { createKopiProvider, createKopiMiddleware, kopiDefinition } from './provider.js';
export { SOURCE, kopiSchema } from './schema.js';
export type { KopiNotice } from './schema.js';
export type { KopiOptions, KopiMiddlewareOptions } from './options.js';
export { signKopi } from './sign.js';
`,
  'test/fixtures.ts': `import { jsonNumber } from '@payhook/core/plugin';
import type { ConformanceFixtures } from '@payhook/core/testing';
import { createKopiProvider, signKopi } from '../src/index.js';

const SECRET = 'kopi-test-secret';
const paid = {
  event: 'payment.paid',
  payment_id: 'pay_1',
  merchant_ref: 'ORDER-1',
  amount: jsonNumber('1250.50'),
  currency: 'THB',
  paid_at: '2026-01-15 10:00:00',
};

export const kopiConformance: ConformanceFixtures = {
  name: 'kopi',
  provider: () => createKopiProvider({ secret: SECRET }),
  valid: signKopi(paid, SECRET),
  expected: [
    {
      type: 'payment.completed',
      id: 'kopi:pay_1:payment.completed',
      orderId: 'ORDER-1',
      transactionId: 'pay_1',
      amount: '1250.50',
      currency: 'THB',
      occurredAt: '2026-01-15T10:00:00+07:00',
    },
  ],
  wrongKey: signKopi(paid, 'not-the-secret'),
  malformed: signKopi('{"event":', SECRET),
  stale: signKopi(paid, SECRET, Date.now() - 2 * 24 * 3_600_000),
  notPaymentEvent: signKopi({ ...paid, event: 'payout.sent' }, SECRET),
};
`,
  'test/conformance.test.ts': `// node:test: \`tsc && node --test dist/test/conformance.test.js\`
import { describe, it } from 'node:test';
import { runProviderConformance } from '@payhook/core/testing';
import { kopiConformance } from './fixtures.js';

runProviderConformance(kopiConformance, { describe, it });
`,
  'broken/accepts-any-signature.test.ts': `// Kopi with its signature check taken out, which no one should ship: the suite must fail it.
import { describe, it } from 'node:test';
import { defineProvider, parseJson } from '@payhook/core/plugin';
import { runProviderConformance } from '@payhook/core/testing';
import { SOURCE, kopiDefinition, type KopiNotice } from '../src/index.js';
import { kopiConformance } from '../test/fixtures.js';

const acceptsAnySignature = () =>
  defineProvider<KopiNotice>({
    ...kopiDefinition({ secret: 'kopi-test-secret' }),
    verify: (delivery) =>
      parseJson(delivery.body, { numbers: 'text', source: SOURCE }) as KopiNotice,
  });

runProviderConformance(
  { ...kopiConformance, name: 'kopi, accepting any signature', provider: acceptsAnySignature },
  { describe, it },
);
`,
};

/**
 * `node --test <file>` in an app: its result, and the counts of the summary its reporter (TAP when
 * not on a terminal, spec on newer Node) ends with (`# pass 9`, `ℹ pass 9`).
 */
async function nodeTest(app, file) {
  const result = await run(process.execPath, ['--test', file], { cwd: app, timeoutMs: 120_000 });
  const count = (what) => {
    const match = new RegExp(`^(?:#|ℹ) ${what} (\\d+)$`, 'm').exec(result.stdout);
    return match ? Number(match[1]) : undefined;
  };
  const output = `${result.stdout}${result.stderr}`.trim();
  return {
    ...result,
    output,
    pass: count('pass'),
    fail: count('fail'),
    cancelled: count('cancelled'),
  };
}

/** A test of the report, by the start of its title (`ok 8 - a delivery older than ...`). */
const reported = (stdout, verdict, title) =>
  new RegExp(`^\\s*${verdict} \\d+ - ${title}`, 'm').test(stdout);

async function pluginAuthorApp(scratch, tarballs) {
  const app = path.join(scratch, 'plugin-author');
  const label = 'plugin-author (a gateway plugin on @payhook/core/plugin, node:test)';
  writeFiles(app, { ...PLUGIN_APP, '.npmrc': SCRATCH_NPMRC });

  const installed = await check(`${label}: npm install of the @payhook/core tarball`, async () => {
    const ms = await install(app, [tarballOf(tarballs, '@payhook/core'), '@types/node@^20']);
    console.log(`       ${label}: install took ${(ms / 1000).toFixed(1)} s`);
  });
  const later = [
    'only @payhook/core is installed',
    'tsc --strict type-checks the plugin and its node:test conformance',
    'node --test runs the conformance',
    'node --test fails the conformance of a verify that accepts any signature',
  ];
  if (!installed) return later.forEach((n) => notRun(`${label}: ${n}`, 'install failed'));

  await check(`${label}: ${later[0]}`, () => {
    assert.deepEqual(installedScope(app), ['@payhook/core']);
  });
  const compiled = await check(`${label}: ${later[1]}`, async () => {
    const config = path.join(app, 'tsconfig.json');
    await runOk(process.execPath, [TSC, '--strict', '-p', config], { cwd: app });
    assert.ok(existsSync(path.join(app, 'dist', 'test', 'conformance.test.js')));
  });
  if (!compiled) return later.slice(2).forEach((n) => notRun(`${label}: ${n}`, 'tsc failed'));

  await checkConformancePasses(app, `${label}: ${later[2]}`);
  await checkConformanceFails(app, `${label}: ${later[3]}`);
}

/** The plugin passes the suite: every test ran and passed, the signed-time ones included. */
async function checkConformancePasses(app, name) {
  const result = await nodeTest(app, 'dist/test/conformance.test.js').catch((error) => ({ error }));
  await check(`${name}: ${result.pass ?? '?'} pass, ${result.fail ?? '?'} fail`, () => {
    if (result.error) throw result.error;
    assert.ok(result.pass > 0, `no passing test counted\n${result.output}`);
    assert.equal(result.fail, 0, result.output);
    assert.equal(result.cancelled ?? 0, 0, result.output);
    assert.equal(result.code, 0, result.output);
    for (const title of [
      'a delivery signed with the wrong key is refused',
      'a delivery older than the maximum age is refused',
      'it cannot be mounted on a hub that forgets sooner',
    ])
      assert.ok(reported(result.stdout, 'ok', title), `not passed: ${title}\n${result.output}`);
  });
}

/** A suite that passes everything proves nothing: the plugin without its check must fail it. */
async function checkConformanceFails(app, name) {
  const file = 'dist/broken/accepts-any-signature.test.js';
  const result = await nodeTest(app, file).catch((error) => ({ error }));
  await check(`${name}: exit ${result.code ?? '?'}, ${result.fail ?? '?'} fail`, () => {
    if (result.error) throw result.error;
    assert.notEqual(result.code, 0, result.output);
    assert.ok(result.fail >= 1, `no failing test counted\n${result.output}`);
    for (const title of [
      'a tampered delivery is refused',
      'a delivery signed with the wrong key is refused',
    ])
      assert.ok(reported(result.stdout, 'not ok', title), `not failed: ${title}\n${result.output}`);
  });
}

// ---------------------------------------------------------------------------------------------
// pg-prod: production commands from @payhook/postgres alone

const DATABASE_URL =
  process.env.PAYHOOK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Schemas the pg-prod app created (or may have): dropped by cleanup(), whatever happened. */
const schemasToDrop = new Set();

async function dropSchemas() {
  if (schemasToDrop.size === 0) return;
  const { Pool } = createRequire(import.meta.url)('pg');
  const pool = new Pool({ connectionString: DATABASE_URL, max: 1, connectionTimeoutMillis: 5_000 });
  try {
    for (const schema of schemasToDrop) {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      schemasToDrop.delete(schema);
    }
  } catch (error) {
    console.log(
      `warning: schemas not dropped (${[...schemasToDrop].join(', ')}): ${error.message}`,
    );
  } finally {
    await pool.end();
  }
}

const PG_APP = {
  'package.json': json({ name: 'payhook-pack-pg', private: true, type: 'commonjs' }),
  // The merchant's worker listeners: each event leaves a file (the test's sign that it ran).
  'listeners.js': `'use strict';
const { writeFileSync } = require('node:fs');
const path = require('node:path');

exports.register = (queue) => {
  queue.on('payment.completed', async (event, { tx, attempt }) => {
    const { rows } = await tx.query('SELECT 1 AS one');
    const file = path.join(__dirname, 'ran-' + event.transactionId + '.json');
    writeFileSync(file, JSON.stringify({ id: event.id, attempt, one: rows[0].one }));
  });
};
`,
  // What the web process does in async mode, reduced to the queue: one event enqueued.
  'enqueue.js': `'use strict';
const { Pool } = require('pg');
const { createPaymentQueue } = require('@payhook/postgres');

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
const queue = createPaymentQueue({ pool, schema: process.env.SCHEMA });
const event = {
  id: 'cashy:PACK-PG-1:paid',
  type: 'payment.completed',
  provider: 'cashy',
  orderId: 'PACK-PG-1',
  transactionId: 'PACK-PG-1',
  amount: '100.10',
  currency: 'IDR',
  occurredAt: '2026-01-15T10:00:00+07:00',
  receivedAt: new Date().toISOString(),
  verification: 'signature',
  raw: {},
};
queue
  .enqueue(event)
  .then((queued) => console.log(JSON.stringify({ queued })))
  .finally(() => queue.stop().then(() => pool.end()));
`,
};

/** Starts `node_modules/.bin/payhook-postgres worker ...`; resolves once it printed "started". */
function startWorkerBin(app, argv) {
  return new Promise((resolve, reject) => {
    const bin = path.join(app, 'node_modules', '.bin', 'payhook-postgres');
    const child = spawn(bin, ['worker', ...argv], {
      cwd: app,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    const exited = new Promise((done) =>
      child.on('exit', (code, signal) => {
        children.delete(child);
        done({ code, signal });
      }),
    );
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the worker did not start within 20 s\n${stdout}${stderr}`.trim()));
    }, 20_000);
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (!stdout.includes('payhook-postgres worker: started')) return;
      clearTimeout(timer);
      resolve({ child, exited, output: () => stdout + stderr });
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the worker exited with ${code ?? signal}\n${stdout}${stderr}`.trim()));
    });
  });
}

async function waitForFile(file, worker, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`no ${path.basename(file)} within ${timeoutMs} ms`);
    if (worker.child.exitCode !== null) throw new Error(`the worker exited\n${worker.output()}`);
    await delay(200);
  }
  return JSON.parse(readFileSync(file, 'utf8'));
}

async function pgApp(scratch, tarballs) {
  const app = path.join(scratch, 'pg-prod');
  const label = 'pg-prod (core + payin + postgres, production install)';
  writeFiles(app, { ...PG_APP, '.npmrc': SCRATCH_NPMRC });
  const wanted = ['@payhook/core', '@payhook/payin', '@payhook/postgres'];
  const schema = `payhook_pack_${process.pid}_${Date.now().toString(36)}`;
  const db = ['--database-url', DATABASE_URL, '--schema', schema];

  const installed = await check(
    `${label}: npm install of 3 tarballs + pg + express@5`,
    async () => {
      const ms = await install(app, [
        ...wanted.map((n) => tarballOf(tarballs, n)),
        'pg@^8',
        'express@^5',
      ]);
      console.log(`       ${label}: install took ${(ms / 1000).toFixed(1)} s`);
    },
  );
  const later = [
    'only its @payhook packages; no socket.io, no @payhook/testing in node_modules',
    'npx payhook-postgres migrate --database-url … --schema <fresh>: exit 0, applied',
    'npx payhook-postgres migrate --check: exit 0, up to date',
    'payhook-postgres worker --listeners ./listeners.js runs a queued event, exits 0 on SIGTERM',
  ];
  if (!installed) return later.forEach((n) => notRun(`${label}: ${n}`, 'install failed'));

  await check(`${label}: ${later[0]}`, () => {
    assert.deepEqual(installedScope(app).sort(), [...wanted].sort());
    for (const absent of ['socket.io', '@payhook/testing', 'engine.io'])
      assert.ok(!existsSync(path.join(app, 'node_modules', absent)), `node_modules/${absent}`);
  });

  const npx = (argv) =>
    run('npx', ['--no', 'payhook-postgres', ...argv], { cwd: app, timeoutMs: 60_000 });
  schemasToDrop.add(schema);
  const migrated = await check(`${label}: ${later[1]}`, async () => {
    const result = await npx(['migrate', ...db]);
    assert.equal(
      result.code,
      0,
      `exit ${result.code ?? result.signal}\n${result.stdout}${result.stderr}`,
    );
    assert.match(
      result.stdout,
      /^payhook-postgres migrate: applied 001_processed, 002_inbox, 003_watch_list/,
    );
    assert.ok(result.stdout.includes(`to schema "${schema}"`), result.stdout);
  });
  if (!migrated) return later.slice(2).forEach((n) => notRun(`${label}: ${n}`, 'migrate failed'));

  await check(`${label}: ${later[2]}`, async () => {
    const result = await npx(['migrate', '--check', ...db]);
    assert.equal(
      result.code,
      0,
      `exit ${result.code ?? result.signal}\n${result.stdout}${result.stderr}`,
    );
    assert.equal(result.stdout, `payhook-postgres migrate: schema "${schema}" is up to date\n`);
  });

  await checkWorker(app, `${label}: ${later[3]}`, db, schema);
}

/** The worker bin runs an event queued through the package's API, and stops on SIGTERM. */
function checkWorker(app, name, db, schema) {
  return check(name, async () => {
    const worker = await startWorkerBin(app, [
      '--listeners',
      './listeners.js',
      '--grace-ms',
      '5000',
      ...db,
    ]);
    const enqueued = await runOk(process.execPath, ['enqueue.js'], {
      cwd: app,
      env: childEnv({ DATABASE_URL, SCHEMA: schema }),
      timeoutMs: 30_000,
    });
    assert.equal(enqueued.stdout.trim(), '{"queued":true}');
    const ran = await waitForFile(path.join(app, 'ran-PACK-PG-1.json'), worker, 30_000);
    assert.deepEqual(ran, { id: 'cashy:PACK-PG-1:paid', attempt: 1, one: 1 });
    worker.child.kill('SIGTERM');
    const timeout = delay(20_000, 'timeout', { ref: false });
    const exit = await Promise.race([worker.exited, timeout]);
    assert.notEqual(
      exit,
      'timeout',
      `the worker did not exit within 20 s of SIGTERM\n${worker.output()}`,
    );
    assert.deepEqual(exit, { code: 0, signal: null }, worker.output());
    assert.match(worker.output(), /payhook-postgres worker: stopped \{"done":1,/);
  });
}

// ---------------------------------------------------------------------------------------------

/** `npm pack`s every package into the scratch dir and checks each tarball; its files by name. */
async function packAll(scratch) {
  const packDir = path.join(scratch, 'tarballs');
  mkdirSync(packDir);
  const tarballs = new Map();
  const packed = await check(`npm pack of ${packageDirs.length} packages`, async () => {
    const { stdout } = await runOk('npm', [
      'pack',
      '--json',
      '--pack-destination',
      packDir,
      ...packageDirs.flatMap((dir) => ['-w', path.relative(root, dir)]),
    ]);
    for (const entry of JSON.parse(stdout)) {
      tarballs.set(entry.name, path.join(packDir, entry.filename));
    }
    const missing = packageDirs.map(nameOf).filter((n) => !tarballs.has(n));
    assert.deepEqual(missing, [], `not packed: ${missing.join(', ')}`);
  });
  if (!packed) return undefined;

  for (const dir of packageDirs) {
    const manifest = manifests.get(dir);
    const extracted = path.join(scratch, 'extracted', manifest.name.replace('/', '+'));
    mkdirSync(extracted, { recursive: true });
    await runOk('tar', ['-xzf', tarballs.get(manifest.name), '-C', extracted]);
    // The manifest as packed (npm may normalise it), not the one in the tree.
    const packedManifest = JSON.parse(
      readFileSync(path.join(extracted, 'package', 'package.json'), 'utf8'),
    );
    await checkTarball(path.join(extracted, 'package'), packedManifest);
  }
  return tarballs;
}

async function main() {
  const scratch = mkdtempSync(path.join(tmpdir(), 'payhook-pack-'));
  const removeScratch = () => {
    if (!args.has('--keep')) rmSync(scratch, { recursive: true, force: true });
  };
  const cleanup = async () => {
    await stopChildren();
    await dropSchemas();
    removeScratch();
  };
  // The temp dir goes whatever happens: interrupted, killed by a signal, or a closed stdout
  // (`npm run test:pack | head`), which would otherwise crash the run before its finally.
  process.on('exit', () => {
    for (const child of children) child.kill('SIGKILL');
    removeScratch();
  });
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ]) {
    process.on(signal, () => {
      interrupted = true;
      console.log(`== ${signal}: stopping`);
      cleanup().finally(() => process.exit(code));
    });
  }
  process.stdout.on('error', () => {});
  console.log(`== pack test in ${scratch}`);
  try {
    if (!args.has('--no-build')) {
      const built = await check('npm run build', () => runOk('npm', ['run', 'build']));
      if (!built) return;
    }
    for (const dir of packageDirs) {
      for (const file of pruneOrphanOutput(dir)) console.log(`       pruned ${file} (no source)`);
    }

    const tarballs = await packAll(scratch);
    if (!tarballs) return;

    const keys = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    await Promise.all([
      esmApp(scratch, tarballs, keys),
      cjsApp(scratch, tarballs),
      pluginAuthorApp(scratch, tarballs),
      pgApp(scratch, tarballs),
    ]);
  } catch (error) {
    report(false, 'pack test harness', error instanceof Error ? error.stack : error);
  } finally {
    await cleanup();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`== ${seconds} s${args.has('--keep') ? `, kept ${scratch}` : ''}`);
    console.log(`${passed} passed, ${failed} failed`);
    const left = existsSync(scratch) && !args.has('--keep');
    if (left && statSync(scratch).isDirectory()) console.log(`warning: ${scratch} not removed`);
  }
}

await main();
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
