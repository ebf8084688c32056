import { execFile, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { createPaymentHub } from '@payhook/core';
import { recordHub, type HubRecording } from '@payhook/core/testing';
import * as newpayCallback from '@payhook/newpay-callback';
import * as newpaySigning from '@payhook/newpay-callback/signing';
import * as payin from '@payhook/payin';
import * as payinSigning from '@payhook/payin/signing';
import * as signedParam from '@payhook/signed-param';
import * as signedParamSigning from '@payhook/signed-param/signing';
import * as lailaolabSocket from '@payhook/lailaolab-socket';
import { CASHY_TEST_API_KEY } from '../src';
import type { CashyPlugin } from '../src/cashy';
import type { LailaolabPlugin } from '../src/lailaolab';
import type {
  LailaolabMessage as SimulatorMessage,
  LailaolabStatusData as SimulatorRecord,
} from '../src/lailaolab-simulator';
import type { NewpayPlugin } from '../src/newpay';
import type { SignedParamPlugin } from '../src/signed-param';

/**
 * The gateway plugins are optional peers of @payhook/testing. These tests build core, payin and
 * testing as they are published (tsc output, package.json, bin) into a scratch app whose
 * node_modules has no other plugin, then load the package, call its builders, run its CLI and
 * compile a consumer there, each in a child process: with one plugin missing, only what needs it
 * fails, and it says which package to install.
 */

// Compile-time: each plugin still fits the shape its builders load it as (tsc and ts-jest check
// these lines), so writing the shapes locally cannot drift from the plugins. A builder loads a
// plugin's root and its ./signing subpath together (requirePlugin).
const shapes: [NewpayPlugin, CashyPlugin, SignedParamPlugin, LailaolabPlugin] = [
  { ...newpayCallback, ...newpaySigning },
  { ...payin, ...payinSigning },
  { ...signedParam, ...signedParamSigning },
  lailaolabSocket,
];

// The simulator types the wire from what it sends, not by importing the plugin's types (see
// lailaolab-simulator.ts): what it sends must still be what the plugin reads.
type SimulatorWireFits = [SimulatorRecord, SimulatorMessage] extends [
  lailaolabSocket.LailaolabStatusData,
  lailaolabSocket.LailaolabMessage,
]
  ? true
  : never;
const simulatorWireFits: SimulatorWireFits = true;

const ROOT = path.join(__dirname, '..', '..', '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
/** What the scratch app installs: the packages under test (and their dependencies). */
const PACKAGES = ['core', 'payin', 'testing'];
const MISSING = {
  newpay: '@payhook/newpay-callback',
  signedParam: '@payhook/signed-param',
  lailaolab: '@payhook/lailaolab-socket',
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let scratch: string;
let app: string;

function run(file: string, args: string[], cwd = app): Promise<Run> {
  return new Promise((resolve) => {
    // No NODE_PATH: the scratch app's node_modules is all there is.
    const env = { ...process.env, NODE_PATH: '' };
    execFile(file, args, { cwd, env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

const node = (args: string[]): Promise<Run> => run(process.execPath, args);
const payhook = (args: string[]): Promise<Run> =>
  node([path.join('node_modules', '@payhook', 'testing', 'bin', 'payhook.js'), ...args]);

/** The directory node would load `dep` from, for a module in `from` (nested installs first). */
function installedDir(dep: string, from: string): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', dep);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
  }
  throw new Error(`${dep} is not installed for ${from}`);
}

/** Links `dep` into the scratch app's node_modules, as npm would install it there. */
function link(modules: string, dep: string, from: string): void {
  const target = path.join(modules, dep);
  if (existsSync(target)) return;
  mkdirSync(path.dirname(target), { recursive: true });
  symlinkSync(installedDir(dep, from), target, 'dir');
}

/** core, payin and testing compiled as `npm run build` does, with the plugins' sources absent. */
async function buildPackages(): Promise<void> {
  const out = path.join(scratch, 'out');
  writeFileSync(
    path.join(scratch, 'tsconfig.json'),
    JSON.stringify({
      extends: path.join(ROOT, 'tsconfig.build.json'),
      compilerOptions: {
        rootDir: path.join(ROOT, 'packages'),
        outDir: out,
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        baseUrl: ROOT,
        paths: {
          '@payhook/core/testing': ['packages/core/src/testing/index.ts'],
          '@payhook/core/plugin': ['packages/core/src/plugin/index.ts'],
          '@payhook/core': ['packages/core/src/index.ts'],
          '@payhook/payin': ['packages/payin/src/index.ts'],
          '@payhook/testing': ['packages/testing/src/index.ts'],
        },
      },
      // Whatever else testing's sources pulled in (a plugin) would fail this build.
      files: PACKAGES.map((p) => path.join(ROOT, 'packages', p, 'src', 'index.ts')).concat(
        path.join(ROOT, 'packages', 'core', 'src', 'testing', 'index.ts'),
        path.join(ROOT, 'packages', 'core', 'src', 'plugin', 'index.ts'),
        path.join(ROOT, 'packages', 'testing', 'src', 'cli.ts'),
      ),
    }),
  );
  const built = await run(process.execPath, [TSC, '-p', path.join(scratch, 'tsconfig.json')], ROOT);
  if (built.code !== 0) throw new Error(`tsc failed:\n${built.stdout}${built.stderr}`);
  const modules = path.join(app, 'node_modules');
  for (const name of PACKAGES) {
    const source = path.join(ROOT, 'packages', name);
    const target = path.join(modules, '@payhook', name);
    mkdirSync(target, { recursive: true });
    cpSync(path.join(source, 'package.json'), path.join(target, 'package.json'));
    renameSync(path.join(out, name, 'src'), path.join(target, 'dist'));
    const manifest = require(path.join(source, 'package.json')) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(manifest.dependencies ?? {})) link(modules, dep, source);
  }
  // For the consumer's compiler: the types of node, which the published types use.
  link(modules, '@types/node', ROOT);
  cpSync(
    path.join(ROOT, 'packages', 'testing', 'bin'),
    path.join(modules, '@payhook', 'testing', 'bin'),
    { recursive: true },
  );
}

let server: Server;
let cashyUrl: string;
let rec: HubRecording;

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'payhook-peers-'));
  app = path.join(scratch, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), '{"name":"scratch-app","private":true}\n');
  await buildPackages();
  // The merchant's app: Cashy only, the one gateway whose plugin the scratch app has.
  const hub = createPaymentHub();
  rec = recordHub(hub);
  const web = express();
  web.use(
    '/cashy',
    payin.createPayinMiddleware(hub, { merchantId: '100001', apiKey: CASHY_TEST_API_KEY }),
  );
  server = createServer(web);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cashyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cashy`;
}, 120_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  rmSync(scratch, { recursive: true, force: true });
});

describe('@payhook/testing beside @payhook/core and @payhook/payin only', () => {
  it('the plugins fit the shapes the builders load, and the scratch app really lacks three', async () => {
    expect(shapes.map((s) => typeof s)).toEqual(['object', 'object', 'object', 'object']);
    expect(simulatorWireFits).toBe(true);
    const probe = await node([
      '-e',
      `for (const id of ${JSON.stringify(['@payhook/payin', ...Object.values(MISSING)])})
         try { require.resolve(id); console.log(id, 'found') } catch { console.log(id, 'absent') }`,
    ]);
    expect(probe.stdout.trim().split('\n')).toEqual([
      '@payhook/payin found',
      ...Object.values(MISSING).map((id) => `${id} absent`),
    ]);
  });

  it('loads; the Cashy builder works; the others name the package to install', async () => {
    const script = `
      const t = require('@payhook/testing');
      const { ConfigError } = require('@payhook/core');
      const delivery = t.createCashyFixtures().payin({ mchOrderNo: 'P-1', amount: '10.5' });
      const failures = {};
      for (const name of ['createNewpayFixtures', 'createSignedParamFixtures',
        'createLailaolabFixtures', 'createGatewayFixtures']) {
        try { t[name](); failures[name] = 'no error' }
        catch (e) {
          failures[name] = { message: e.message, code: e.code, config: e instanceof ConfigError,
            missing: e instanceof t.MissingPluginError, plugin: e.plugin };
        }
      }
      const keys = t.generateTestKeyPair(1024);
      console.log(JSON.stringify({ sign: delivery.headers.Sign, failures,
        keys: keys.publicKeyPem.startsWith('-----BEGIN PUBLIC KEY-----') }));`;
    const result = await node(['-e', script]);
    expect(result.stderr).toBe('');
    const out = JSON.parse(result.stdout);
    expect(out.sign).toMatch(/^[0-9A-F]{32}$/);
    expect(out.keys).toBe(true);
    const needs = (user: string, plugin: string) => ({
      message: `@payhook/testing: ${user} needs ${plugin}: npm install -D ${plugin}`,
      code: 'ERR_CONFIG',
      config: true,
      missing: true,
      plugin,
    });
    expect(out.failures).toEqual({
      createNewpayFixtures: needs('createNewpayFixtures', MISSING.newpay),
      createSignedParamFixtures: needs('createSignedParamFixtures', MISSING.signedParam),
      createLailaolabFixtures: needs('createLailaolabFixtures', MISSING.lailaolab),
      // All four at once: the first one missing says so.
      createGatewayFixtures: needs('createNewpayFixtures', MISSING.newpay),
    });
  });

  it('the CLI sends Cashy, and for the other gateways says which plugin to install', async () => {
    const [cashy, newpay, signed, lailaolab, keys] = await Promise.all([
      payhook(['send', 'cashy', 'payment', '--url', cashyUrl, '--order', 'P-2']),
      payhook(['send', 'newpay', 'payment', '--url', cashyUrl, '--key', 'whatever.pem']),
      payhook(['send', 'signed-param', 'refund', '--url', cashyUrl, '--country', 'ID']),
      payhook(['send', 'lailaolab', 'payment', '--url', cashyUrl]),
      payhook(['keys', '--out', 'keys', '--json']),
    ]);
    expect(cashy.stderr).toBe('');
    expect(cashy.code).toBe(0);
    expect(cashy.stdout).toMatch(/acknowledged: yes/);
    expect(rec.events.map((e) => e.orderId)).toContain('P-2');
    const needs = (gateway: string, plugin: string) =>
      `payhook: payhook send ${gateway} needs ${plugin}: npm install -D ${plugin}\n`;
    expect([newpay.code, signed.code, lailaolab.code]).toEqual([2, 2, 2]);
    expect(newpay.stderr).toBe(needs('newpay', MISSING.newpay));
    expect(signed.stderr).toBe(needs('signed-param', MISSING.signedParam));
    expect(lailaolab.stderr).toBe(needs('lailaolab', MISSING.lailaolab));
    expect(keys.code).toBe(0);
    expect(Object.keys(JSON.parse(keys.stdout))).toContain('privateKey');
  });

  it('socket.io is an optional peer too: not installed, only the simulator needs it and says so', async () => {
    const manifest = require('../package.json') as {
      dependencies?: Record<string, string>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.peerDependencies['socket.io']).toBeDefined();
    expect(manifest.peerDependenciesMeta['socket.io']).toEqual({ optional: true });
    const script = `
      const t = require('@payhook/testing');
      let resolved = true;
      try { require.resolve('socket.io') } catch { resolved = false }
      const delivery = t.createCashyFixtures().payin({ mchOrderNo: 'S-1' });
      t.startLailaolabSimulator({ secretKey: 'k' }).then(
        () => console.log(JSON.stringify({ resolved, error: 'none' })),
        (e) => console.log(JSON.stringify({ resolved, signed: delivery.body.length > 0,
          error: { message: e.message, missing: e instanceof t.MissingPluginError, plugin: e.plugin } })));`;
    const [loaded, simulate] = await Promise.all([
      node(['-e', script]),
      payhook(['simulate', 'lailaolab']),
    ]);
    expect(loaded.stderr).toBe('');
    expect(JSON.parse(loaded.stdout)).toEqual({
      resolved: false,
      signed: true,
      error: {
        message:
          '@payhook/testing: startLailaolabSimulator needs socket.io: npm install -D socket.io',
        missing: true,
        plugin: 'socket.io',
      },
    });
    expect(simulate.code).toBe(2);
    expect(simulate.stderr).toBe(
      'payhook: payhook simulate lailaolab needs socket.io: npm install -D socket.io\n',
    );
    // Its types import nothing of it either: a consumer compiles without it (see the last test).
    const dist = path.join(app, 'node_modules', '@payhook', 'testing', 'dist');
    const typings = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.d.ts'),
    );
    expect(typings.length).toBeGreaterThan(0);
    expect(
      typings.filter((f) =>
        /from '(socket\.io|engine\.io)['/]|import\("(socket\.io|engine\.io)/.test(
          readFileSync(path.join(dist, f), 'utf8'),
        ),
      ),
    ).toEqual([]);
  });

  it('the CLI runs the Lailaolab simulator with no Lailaolab plugin (it plays the gateway)', async () => {
    // What the merchant installs to run the simulator: socket.io, not @payhook/lailaolab-socket.
    link(path.join(app, 'node_modules'), 'socket.io', ROOT);
    const child = spawn(
      process.execPath,
      [
        path.join('node_modules', '@payhook', 'testing', 'bin', 'payhook.js'),
        'simulate',
        'lailaolab',
        '--json',
      ],
      { cwd: app, env: { ...process.env, NODE_PATH: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => void (stderr += c.toString('utf8')));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let buffer = '';
        child.stdout.on('data', (c: Buffer) => {
          buffer += c.toString('utf8');
          if (buffer.includes('\n')) resolve(buffer.split('\n')[0]!);
        });
        child.once('exit', (code) => reject(new Error(`simulate exited with ${code}: ${stderr}`)));
      });
      const info = JSON.parse(line) as { control: string; socketUrl: string };
      const status = await fetch(info.control);
      expect(await status.json()).toMatchObject({ socketBase: info.socketUrl, clients: 0 });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('a TypeScript consumer compiles against the published types, even without skipLibCheck', async () => {
    writeFileSync(
      path.join(app, 'consumer.ts'),
      [
        "import { createCashyFixtures, startLailaolabSimulator, type GatewayFixtures } from '@payhook/testing';",
        "const delivery = createCashyFixtures().payin({ mchOrderNo: 'T-1' });",
        'const body: string = delivery.body;',
        'export async function lailaolab(fixtures: GatewayFixtures): Promise<string> {',
        '  const sim = await startLailaolabSimulator({ secretKey: fixtures.lailaolab.secretKey });',
        '  await sim.close();',
        '  return body + sim.socketBase;',
        '}',
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'node16',
          moduleResolution: 'node16',
          target: 'ES2022',
          types: ['node'],
          skipLibCheck: false,
        },
        files: ['consumer.ts'],
      }),
    );
    const compiled = await run(process.execPath, [TSC, '-p', 'tsconfig.json']);
    expect(compiled.stdout + compiled.stderr).toBe('');
    expect(compiled.code).toBe(0);
    // A whole tsc run without skipLibCheck: on a busy machine it outlasts jest's default timeout.
  }, 60_000);
});
