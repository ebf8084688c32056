import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { createPaymentHub } from '@payhook/core';
import { recordHub, type HubRecording } from '@payhook/core/testing';
import { createNewpayMiddleware } from '@payhook/newpay-callback';
import { createPayinMiddleware } from '@payhook/payin';
import { createSignedParamMiddleware } from '@payhook/signed-param';
import { createLailaolabMiddleware, createLailaolabSource } from '@payhook/lailaolab-socket';
import { CASHY_TEST_API_KEY, EXIT, KEY_FILES, LAILAOLAB_TEST_SECRET } from '../src';
import { captureCli } from './run-cli';

// The real binary, run as a child process (no build: the bin falls back to tsx on the sources).
const BIN = path.join(__dirname, '..', 'bin', 'payhook.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function payhook(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 15_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

/** The same CLI in-process, for the many usage cases. */
const inProcess = (args: string[], env: Record<string, string> = {}, cwd = process.cwd()) =>
  // simulate: stop as soon as it started (these tests only look at its start).
  captureCli(args, { env, cwd, stopSignal: () => Promise.resolve() });

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

let dir: string;
let keyFile: string;
let server: Server;
let url: string;
let rec: HubRecording;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'payhook-cli-'));
  const keys = await payhook(['keys', '--out', dir, '--json']);
  expect(keys.code).toBe(0);
  keyFile = JSON.parse(keys.stdout).privateKey;
  // The app under test trusts the public halves the CLI wrote, in both forms the plugins take.
  const hub = createPaymentHub();
  rec = recordHub(hub);
  const app = express();
  app.use(
    '/newpay',
    createNewpayMiddleware(hub, {
      platformPublicKey: readFileSync(path.join(dir, 'public.pem'), 'utf8'),
      appId: 6,
    }),
  );
  app.use(
    '/paycools',
    createSignedParamMiddleware(hub, {
      platformPublicKey: readFileSync(path.join(dir, 'public.base64'), 'utf8'),
      country: 'PH',
    }),
  );
  app.use(
    '/paycools-id',
    createSignedParamMiddleware(hub, {
      platformPublicKey: readFileSync(path.join(dir, 'public.pem'), 'utf8'),
      country: 'ID',
    }),
  );
  app.use(
    '/cashy',
    createPayinMiddleware(hub, { merchantId: '100001', apiKey: CASHY_TEST_API_KEY }),
  );
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('payhook keys', () => {
  it('wrote a pair, refuses to overwrite it, and overwrites with --force', async () => {
    for (const f of ['private.pem', 'public.pem', 'public.base64'])
      expect(existsSync(path.join(dir, f))).toBe(true);
    const before = readFileSync(keyFile, 'utf8');
    const again = await inProcess(['keys', '--out', dir]);
    expect(again.code).toBe(EXIT.USAGE);
    expect(again.stderr).toMatch(/already exist.*--force/);
    expect(readFileSync(keyFile, 'utf8')).toBe(before);
    const other = mkdtempSync(path.join(tmpdir(), 'payhook-cli-'));
    const forced = await inProcess(['keys', '--out', other, '--force']);
    expect(forced.code).toBe(EXIT.OK);
    expect(forced.stdout).toContain('private.pem');
    rmSync(other, { recursive: true, force: true });
  });
});

describe('payhook keys keeps the private key out of git', () => {
  const git = (cwd: string, ...args: string[]): string =>
    execFileSync('git', args, { cwd, encoding: 'utf8' });
  /** Exit status of `git check-ignore -q`: 0 ignored, 1 not ignored. */
  const ignored = (cwd: string, file: string): boolean => {
    try {
      git(cwd, 'check-ignore', '-q', file);
      return true;
    } catch (error) {
      if ((error as { status?: number }).status === 1) return false;
      throw error;
    }
  };
  let repo: string;
  beforeEach(() => {
    repo = mkdtempSync(path.join(tmpdir(), 'payhook-git-'));
    git(repo, 'init', '-q');
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  it('a directory of its own gets a .gitignore of "*": git sees nothing to commit', async () => {
    const run = await payhook(['keys', '--out', path.join(repo, 'payhook-keys')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${path.join(repo, 'payhook-keys', '.gitignore')}    written`);
    expect(readFileSync(path.join(repo, 'payhook-keys', '.gitignore'), 'utf8')).toMatch(/^\*$/m);
    for (const file of Object.values(KEY_FILES))
      expect(ignored(repo, path.join('payhook-keys', file))).toBe(true);
    expect(git(repo, 'status', '--porcelain', '--untracked-files=all')).toBe('');
  });

  it('a directory with other files: only /private.pem is added to its .gitignore, once', async () => {
    writeFileSync(path.join(repo, '.gitignore'), 'node_modules/');
    writeFileSync(path.join(repo, 'app.ts'), 'export {};\n');
    const first = await inProcess(['keys', '--out', '.', '--json'], {}, repo);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).gitignore).toBe(path.join(repo, '.gitignore'));
    const forced = await inProcess(['keys', '--out', '.', '--force'], {}, repo);
    expect(forced.stdout).toMatch(/already ignores private\.pem/);
    expect(readFileSync(path.join(repo, '.gitignore'), 'utf8')).toBe(
      'node_modules/\n/private.pem\n',
    );
    expect(ignored(repo, KEY_FILES.privateKey)).toBe(true);
    // The user's own files, and the public halves they configure their app with, stay visible.
    expect(ignored(repo, 'app.ts')).toBe(false);
    expect(ignored(repo, KEY_FILES.publicKey)).toBe(false);
  });
});

describe('payhook send against a listening app', () => {
  it('delivers a payment, a v2 payment, a refund and a Cashy payin: each acknowledged', async () => {
    const [v1, v2, refund, cashy] = await Promise.all([
      payhook([
        'send',
        'newpay',
        'payment',
        '--url',
        `${url}/newpay`,
        '--order',
        'N-1',
        '--amount',
        '15000',
        '--key',
        keyFile,
      ]),
      inProcess(['send', 'newpay', 'payment', '--v2', '--url', `${url}/newpay`, '--order', 'N-2'], {
        PAYHOOK_PRIVATE_KEY: keyFile,
      }),
      payhook([
        'send',
        'signed-param',
        'refund',
        '--url',
        `${url}/paycools`,
        '--order',
        'S-1',
        '--amount',
        '100.5',
        '--key',
        keyFile,
      ]),
      payhook([
        'send',
        'cashy',
        'payment',
        '--url',
        `${url}/cashy`,
        '--order',
        'C-1',
        '--amount',
        '100.10',
        '--json',
      ]),
    ]);
    expect([v1.code, v2.code, refund.code, cashy.code]).toEqual([0, 0, 0, 0]);
    expect(v1.stdout).toContain('← 200');
    expect(v1.stdout).toContain('{"transResult":"SUCCESS"}');
    expect(v1.stdout).toMatch(/acknowledged: yes/);
    const json = JSON.parse(cashy.stdout);
    expect(json).toMatchObject({ acknowledged: true, response: { status: 200, body: 'SUCCESS' } });
    expect(json.request.headers.Sign).toMatch(/^[0-9A-F]{32}$/);
    const seen = Object.fromEntries(
      rec.events.map((e) => [e.orderId ?? e.type, [e.type, e.amount]]),
    );
    expect(seen).toMatchObject({
      'N-1': ['payment.completed', '15000.00'],
      'N-2': ['payment.completed', '15000.00'],
      'payment.refunded': ['payment.refunded', '100.50'],
      'C-1': ['payment.completed', '100.10'],
    });
  });

  it('a refused delivery exits 1 and the app emits nothing', async () => {
    const before = rec.events.length;
    const [forged, wrongApp, wrongKey] = await Promise.all([
      payhook(['send', 'cashy', 'payment', '--url', `${url}/cashy`, '--forge']),
      inProcess([
        'send',
        'newpay',
        'failed',
        '--url',
        `${url}/newpay`,
        '--app-id',
        '7',
        '--key',
        keyFile,
      ]),
      inProcess(['send', 'cashy', 'failed', '--url', `${url}/cashy`, '--api-key', 'not-the-key']),
    ]);
    expect([forged.code, wrongApp.code, wrongKey.code]).toEqual([1, 1, 1]);
    expect(forged.stdout).toContain('← 401');
    expect(forged.stdout).toMatch(/acknowledged: no/);
    expect(wrongApp.stdout).toContain('ERR_SENDER_UNKNOWN');
    expect(rec.events.length).toBe(before);
  });

  it('usage errors exit 2 (also from the binary), an unreachable URL exits 3', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}/cashy`;
    const [noKey, badGateway, badEvent, noUrl, badAmount, unreachable, help] = await Promise.all([
      inProcess(['send', 'newpay', 'payment', '--url', `${url}/newpay`]),
      payhook(['send', 'stripe', 'payment', '--url', url]),
      inProcess(['send', 'cashy', 'refund', '--url', url]),
      inProcess(['send', 'cashy', 'payment']),
      inProcess(['send', 'cashy', 'payment', '--url', url, '--amount', '1,5']),
      inProcess(['send', 'cashy', 'payment', '--url', dead]),
      inProcess(['send', '--help']),
    ]);
    expect(noKey.code).toBe(EXIT.USAGE);
    expect(noKey.stderr).toMatch(/--key <file>.*payhook keys/);
    expect(badGateway.stderr).toMatch(/unknown gateway "stripe"/);
    expect(badEvent.stderr).toMatch(/cashy has no event "refund"/);
    expect(noUrl.stderr).toMatch(/--url/);
    expect(badAmount.stderr).toMatch(/not a decimal amount/);
    expect([badGateway.code, badEvent.code, noUrl.code, badAmount.code]).toEqual([2, 2, 2, 2]);
    expect(unreachable.code).toBe(EXIT.IO);
    expect(unreachable.stderr).toBe(`payhook: could not deliver to ${dead} (ECONNREFUSED)\n`);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes/);
  });
});

describe('payhook send: amounts fit the currency, errors name the flag, the appId is shown', () => {
  it('signed-param ID (no minor unit) works with the default amount; decimals are refused', async () => {
    const [ok, decimals, newpay] = await Promise.all([
      inProcess([
        'send',
        'signed-param',
        'payment',
        '--country',
        'ID',
        '--url',
        `${url}/paycools-id`,
        '--order',
        'ID-1',
        '--key',
        keyFile,
      ]),
      inProcess(
        ['send', 'signed-param', 'payment', '--country', 'ID', '--amount', '100.5', '--url', url],
        { PAYHOOK_PRIVATE_KEY: keyFile },
      ),
      inProcess(['send', 'newpay', 'payment', '--url', url, '--amount', '1.005', '--key', keyFile]),
    ]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(EXIT.OK);
    expect(ok.stdout).toContain('50000 IDR');
    expect(rec.events.find((e) => e.orderId === 'ID-1')).toMatchObject({
      type: 'payment.completed',
      amount: '50000',
      currency: 'IDR',
    });
    expect(decimals.code).toBe(EXIT.USAGE);
    expect(decimals.stderr).toMatch(
      /^payhook: --amount "100\.5" has decimals, but IDR has no minor unit/,
    );
    expect(newpay.code).toBe(EXIT.USAGE);
    expect(newpay.stderr).toMatch(/^payhook: --amount "1\.005" has more than 2 decimal places/);
  });

  it('every error names the flag or variable the user gave, never the library option', async () => {
    const garbage = path.join(dir, 'not-a-key.pem');
    writeFileSync(garbage, 'not a key\n');
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [
        ['send', 'newpay', 'payment', '--url', url, '--key', garbage],
        {},
        /^payhook: --key \S+not-a-key\.pem is not a parseable private key/,
      ],
      [
        ['send', 'signed-param', 'payment', '--url', url],
        { PAYHOOK_PRIVATE_KEY: garbage },
        /^payhook: PAYHOOK_PRIVATE_KEY \S+not-a-key\.pem is not a parseable/,
      ],
      [
        ['send', 'newpay', 'payment', '--url', url, '--key', path.join(dir, 'missing.pem')],
        {},
        /^payhook: --key \S+missing\.pem: cannot read the key file \(ENOENT\)/,
      ],
      [
        ['send', 'newpay', 'payment', '--url', url, '--key', keyFile, '--app-id', ' '],
        {},
        /^payhook: --app-id is empty/,
      ],
      [
        ['send', 'newpay', 'payment', '--url', url, '--key', keyFile, '--app-id', ' 6'],
        {},
        /^payhook: --app-id is required: your NewPay appId/,
      ],
      [
        ['send', 'cashy', 'payment', '--url', url, '--api-key', ''],
        {},
        /^payhook: --api-key is empty/,
      ],
      [
        ['send', 'cashy', 'payment', '--url', url],
        { CASHY_API_KEY: '' },
        /^payhook: CASHY_API_KEY is empty/,
      ],
      [
        ['send', 'cashy', 'payment', '--url', url],
        { CASHY_MERCHANT_ID: 'M1' },
        /^payhook: CASHY_MERCHANT_ID must be digits/,
      ],
      [
        ['send', 'lailaolab', 'payment', '--url', url],
        { LAILAOLAB_SECRET_KEY: ' ' },
        /^payhook: LAILAOLAB_SECRET_KEY is empty/,
      ],
      [['simulate', 'lailaolab', '--secret', ''], {}, /^payhook: --secret is empty/],
    ];
    const runs = await Promise.all(cases.map(([args, env]) => inProcess(args, env)));
    runs.forEach((run, i) => {
      expect({ i, code: run.code }).toEqual({ i, code: EXIT.USAGE });
      expect(run.stderr).toMatch(cases[i]![2]);
      // The library's wording for its own options ("option \"privateKey\"") never reaches the user.
      expect(run.stderr).not.toMatch(/option "|privateKey|secretKey|apiKey/);
    });
  });

  it('says which appId it signed with; --app-id changes it (text and --json)', async () => {
    const [text, json] = await Promise.all([
      payhook([
        'send',
        'newpay',
        'payment',
        '--url',
        `${url}/newpay`,
        '--order',
        'AP-1',
        '--key',
        keyFile,
      ]),
      inProcess([
        'send',
        'newpay',
        'refund',
        '--url',
        `${url}/newpay`,
        '--app-id',
        '7',
        '--key',
        keyFile,
        '--json',
      ]),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      "signed for appId 6 (--app-id <id>): your app's NewPay appId must be the same",
    );
    // The app under test has appId 6: a callback for appId 7 is not for it.
    expect(json.code).toBe(EXIT.NOT_ACKNOWLEDGED);
    expect(JSON.parse(json.stdout)).toMatchObject({ appId: '7', response: { status: 401 } });
  });
});

describe('payhook simulate lailaolab', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('runs the simulator an app connects to; send plays a payment on it; SIGTERM stops it with 0', async () => {
    child = spawn(process.execPath, [BIN, 'simulate', 'lailaolab', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) =>
      child!.once('exit', (code) => resolve(code)),
    );
    const info = await new Promise<{ socketUrl: string; apiBase: string; control: string }>(
      (resolve, reject) => {
        let buffer = '';
        child!.stdout!.on('data', (chunk: Buffer) => {
          buffer += chunk.toString('utf8');
          const line = buffer.split('\n')[0];
          if (buffer.includes('\n')) resolve(JSON.parse(line!));
        });
        child!.once('exit', (code) => reject(new Error(`simulate exited with ${code}`)));
      },
    );
    const hub = createPaymentHub();
    const lrec = recordHub(hub);
    const source = createLailaolabSource(hub, {
      secretKey: LAILAOLAB_TEST_SECRET,
      url: info.socketUrl,
      statusQuery: { baseUrl: info.apiBase },
      confirmByStatusQuery: true,
      sweepIntervalMs: 0,
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    });
    const app = express();
    app.use('/lailaolab', createLailaolabMiddleware(hub, { source }));
    const appServer = createServer(app);
    await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
    const appUrl = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}/lailaolab`;
    try {
      await lrec.until((r) => r.sources.some((s) => s.channel === 'source.up'), 'socket up');
      const sent = await payhook([
        'send',
        'lailaolab',
        'payment',
        '--simulator',
        info.control,
        '--url',
        appUrl,
        '--order',
        'D-1',
        '--amount',
        '5000',
      ]);
      expect(sent.code).toBe(0);
      expect(sent.stdout).toMatch(/emitted on join::<secret> to 1 connected client/);
      expect(sent.stdout).toContain('← 200');
      await lrec.until((r) => r.events.length + r.duplicates.length === 2, 'socket + webhook');
      // Heard twice (socket and webhook), applied once.
      expect(lrec.events).toHaveLength(1);
      expect(lrec.events[0]).toMatchObject({
        type: 'payment.completed',
        orderId: 'D-1',
        amount: '5000',
      });
      // Unknown to the simulator's status API: the app refuses the webhook (409), exit 1.
      const forged = await inProcess([
        'send',
        'lailaolab',
        'payment',
        '--url',
        appUrl,
        '--order',
        'D-2',
      ]);
      expect(forged.code).toBe(EXIT.NOT_ACKNOWLEDGED);
      expect(forged.stdout).toContain('← 409');
    } finally {
      await source.close();
      appServer.closeAllConnections();
      await new Promise<void>((resolve) => appServer.close(() => resolve()));
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses an unknown simulator with exit 2', async () => {
    const run = await inProcess(['simulate', 'newpay']);
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.stderr).toMatch(/no simulator for "newpay"/);
  });
});
