import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { createPaymentHub, createWebhookMiddleware } from '@payhook/core';
import { createTestProvider, recordHub, type HubRecording } from '@payhook/core/testing';
import { EXIT } from '../src';
import { captureCli } from './run-cli';

/**
 * `payhook send --fixtures <module>`: a plugin's own gateway joins the CLI for one run. The
 * gateway here is made up (core's test gateway: HMAC-SHA256 of the body in x-test-signature),
 * its fixtures module written in the temp dir, and its deliveries go to a real HTTP server whose
 * hub mounts the matching provider.
 */

const BIN = path.join(__dirname, '..', 'bin', 'payhook.js');

/** A plugin author's fixtures module, CommonJS, declared with defineSendGateway: the README's. */
const HMACPAY_CJS = `'use strict';
const { createHmac } = require('node:crypto');
const { defineSendGateway, outcomeEvents } = require('@payhook/testing');

module.exports = defineSendGateway({
  gateway: 'hmacpay',
  summary: 'JSON deliveries signed with HMAC-SHA256 of the body (x-test-signature)',
  amountHelp: 'decimal; default 500.10',
  transactionHelp: "HmacPay's transaction id (txn)",
  options: {
    secret: { type: 'string', value: '<key>', help: 'the shared secret (default the test one)' },
  },
  setup: (input) => ({ secret: input.text('secret') ?? 'test-secret-do-not-use' }),
  events: outcomeEvents('a payment', (context, input, status) => {
    const body = JSON.stringify({
      event: 'payment',
      txn: input.transaction ?? 'T-' + input.order,
      order: input.order,
      amount: input.amount ?? '500.10',
      status: status === 'success' ? 'PAID' : 'FAILED',
      at: new Date().toISOString(),
    });
    const signature = createHmac('sha256', context.secret).update(body).digest('hex');
    return {
      delivery: {
        gateway: 'hmacpay',
        description: 'HmacPay ' + status + ': order ' + input.order,
        body,
        headers: { 'content-type': 'application/json', 'x-test-signature': signature },
        successAck: { status: 200, body: '{"ok":true}' },
      },
    };
  }),
});
`;

/** The same gateway as a plain object in an ES module, with no import of @payhook/testing. */
const HMACPAY_ESM = `import { createHmac } from 'node:crypto';

export default {
  gateway: 'hmacpay',
  summary: 'JSON deliveries signed with HMAC-SHA256 of the body',
  amountHelp: 'decimal',
  transactionHelp: 'txn',
  options: {},
  setup: () => ({}),
  events: {
    payment: {
      summary: 'a payment: paid',
      build(context, input) {
        const body = JSON.stringify({ event: 'payment', txn: 'T-' + input.order, order: input.order,
          amount: input.amount ?? '1.00', status: 'PAID', at: new Date().toISOString() });
        const signature = createHmac('sha256', 'test-secret-do-not-use').update(body).digest('hex');
        return { delivery: { gateway: 'hmacpay', description: 'ESM ' + input.order, body,
          headers: { 'content-type': 'application/json', 'x-test-signature': signature },
          successAck: { status: 200, body: '{"ok":true}' } } };
      },
    },
  },
};
`;

let dir: string;
let server: Server;
let url: string;
let rec: HubRecording;

const write = (file: string, text: string): void => writeFileSync(path.join(dir, file), text);
const payhook = (args: string[]) => captureCli(args, { env: {}, cwd: dir });
const usage = (line: string): string => `payhook: ${line}\nRun "payhook --help" for usage.\n`;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'payhook-fixtures-'));
  write('hmacpay-fixtures.js', HMACPAY_CJS);
  write('hmacpay.mjs', HMACPAY_ESM);
  const hub = createPaymentHub();
  rec = recordHub(hub);
  const app = express();
  app.use('/webhooks/hmacpay', createWebhookMiddleware(hub, createTestProvider()));
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/hmacpay`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('payhook send --fixtures <module>', () => {
  it("sends a plugin's own gateway: acknowledged, and processed by the app's hub", async () => {
    const fixtures = ['--fixtures', './hmacpay-fixtures.js'];
    const paid = await payhook([
      'send',
      ...fixtures,
      'hmacpay',
      'payment',
      '--url',
      url,
      '--order',
      'H-1',
      '--amount',
      '12.50',
    ]);
    expect(paid).toMatchObject({ code: EXIT.OK, stderr: '' });
    expect(paid.stdout).toMatch(/^HmacPay success: order H-1\n→ POST /);
    expect(paid.stdout).toMatch(/acknowledged: yes/);
    const failed = await payhook(['send', 'hmacpay', 'failed', '--url', url, ...fixtures]);
    expect(failed.code).toBe(EXIT.OK);
    const forged = await payhook(['send', ...fixtures, 'hmacpay', 'payment', '--url', url]);
    expect(forged.code).toBe(EXIT.OK);
    const tampered = await payhook([
      ...['send', ...fixtures, 'hmacpay', 'payment', '--url', url, '--forge', '--json'],
      ...['--secret', 'test-secret-do-not-use', '--order', 'H-F'],
    ]);
    expect(tampered.code).toBe(EXIT.NOT_ACKNOWLEDGED);
    expect(JSON.parse(tampered.stdout)).toMatchObject({
      gateway: 'hmacpay',
      response: { status: 401 },
    });
    const wrongKey = await payhook([
      ...['send', ...fixtures, 'hmacpay', 'payment', '--url', url, '--secret', 'other'],
    ]);
    expect(wrongKey.code).toBe(EXIT.NOT_ACKNOWLEDGED);
    const seen = rec.events.map((e) => [e.type, e.orderId, e.amount]);
    expect(seen).toEqual(
      expect.arrayContaining([
        ['payment.completed', 'H-1', '12.50'],
        ['payment.failed', expect.stringMatching(/^payhook-/), '500.10'],
      ]),
    );
    expect(seen.some(([, order]) => order === 'H-F')).toBe(false);
  });

  it("adds the module's gateway, events and options to the help, marked with the module", async () => {
    const help = await payhook(['send', '--fixtures', 'hmacpay-fixtures.js', '--help']);
    expect(help.code).toBe(EXIT.OK);
    expect(help.stdout).toMatch(
      /\(from --fixtures hmacpay-fixtures\.js\)\nhmacpay: JSON deliveries signed/,
    );
    expect(help.stdout).toMatch(/^ {2}payment +a payment: paid$/m);
    expect(help.stdout).toMatch(/^ {2}--secret <key> +the shared secret/m);
    expect(help.stdout).toMatch(/^ {2}--fixtures <module> +a plugin's fixtures module/m);
    const plain = await payhook(['send', '--help']);
    expect(plain.stdout).not.toContain('hmacpay');
    const unknown = await payhook(['send', 'hmacpay', 'payment', '--url', url]);
    expect(unknown.stderr).toContain(
      '(one of newpay, cashy, signed-param, lailaolab); ' +
        "a plugin's own gateway: --fixtures <its fixtures module>",
    );
  });

  it('loads an ES module too (the real binary)', async () => {
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve) =>
        execFile(
          process.execPath,
          [BIN, 'send', '--fixtures', 'hmacpay.mjs', 'hmacpay', 'payment', '--url', url],
          { cwd: dir, timeout: 30_000 },
          (error, stdout, stderr) =>
            resolve({
              code: error ? ((error as { code?: number }).code ?? null) : 0,
              stdout,
              stderr,
            }),
        ),
    );
    expect(run).toMatchObject({ code: EXIT.OK, stderr: '' });
    expect(run.stdout).toMatch(/^ESM payhook-\S+\n/);
    expect(run.stdout).toMatch(/acknowledged: yes/);
  }, 40_000);

  it("the module is the README's example, byte for byte", () => {
    const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    expect(readme).toContain(`\n\`\`\`js\n${HMACPAY_CJS}\`\`\`\n`);
    expect(readme).toContain('npx payhook send --fixtures ./hmacpay-fixtures.js hmacpay payment');
  });

  it('says what is wrong with the module: missing, no declaration, invalid, clashing', async () => {
    write('empty.js', 'module.exports = { helper() {} };\n');
    write('broken.js', "require('@acme/not-installed');\n");
    write('invalid.js', "module.exports = { gateway: 'Bad Name', events: {} };\n");
    write(
      'clash.js',
      "const d = require('./hmacpay-fixtures.js');\n" +
        "module.exports = { cashy: { ...d, gateway: 'cashy' } };\n",
    );
    write(
      'flag.js',
      "const d = require('./hmacpay-fixtures.js');\n" +
        "module.exports = { ...d, gateway: 'flagpay', options: { key: { type: 'boolean', help: 'x' } } };\n",
    );
    write(
      'plugin.js',
      "const d = require('./hmacpay-fixtures.js');\n" +
        "module.exports = { ...d, gateway: 'pluginpay', plugin: '@acme/payhook-pluginpay' };\n",
    );
    const send = (module: string, gateway = 'hmacpay') =>
      payhook(['send', '--fixtures', module, gateway, 'payment', '--url', url]);
    const [missing, empty, broken, invalid, clash, flag, plugin, none] = await Promise.all([
      send('./nope.js'),
      send('empty.js'),
      send('broken.js'),
      send('invalid.js'),
      send('clash.js'),
      send('flag.js', 'flagpay'),
      send('plugin.js', 'pluginpay'),
      payhook(['send', 'hmacpay', 'payment', '--fixtures']),
    ]);
    for (const run of [missing, empty, broken, invalid, clash, flag, plugin, none])
      expect(run.code).toBe(EXIT.USAGE);
    expect(missing.stderr).toBe(
      usage(`--fixtures ./nope.js: no such file (${path.join(dir, 'nope.js')})`),
    );
    expect(empty.stderr).toBe(
      usage(
        '--fixtures empty.js exports no gateway declaration: export one made with ' +
          'defineSendGateway({ gateway, summary, events, ... }) from @payhook/testing',
      ),
    );
    expect(broken.stderr).toMatch(
      /^payhook: --fixtures broken\.js could not be loaded: Cannot find module '@acme\/not-installed'/,
    );
    expect(invalid.stderr).toBe(
      usage(
        '--fixtures invalid.js: the "Bad Name" declaration is not valid: gateway must be a name ' +
          'of lower-case letters, digits and dashes; summary must be a string; amountHelp must be ' +
          'a string; transactionHelp must be a string; setup must be a function; options must be ' +
          'an object (of flags); events must be an object with at least one event',
      ),
    );
    expect(clash.stderr).toBe(
      usage('--fixtures clash.js: gateway "cashy" is built in; give yours another name'),
    );
    expect(flag.stderr).toBe(
      usage('--fixtures flag.js: flagpay: --key clashes with another declaration of it'),
    );
    expect(plugin.stderr).toBe(
      usage(
        'payhook send pluginpay needs @acme/payhook-pluginpay: npm install -D @acme/payhook-pluginpay',
      ),
    );
    expect(none.stderr).toMatch(/^payhook: Option '--fixtures <value>' argument missing/);
  });
});
