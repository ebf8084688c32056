import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
import {
  createLailaolabMiddleware,
  createLailaolabSource,
  type LailaolabSource,
} from '@payhook/lailaolab-socket';
import {
  CASHY_TEST_API_KEY,
  CASHY_TEST_MERCHANT_ID,
  EXIT,
  LAILAOLAB_TEST_SECRET,
  runCli,
} from '../src';
import { cashyWithYourKey } from './examples/cashy-api-key';
import { lailaolabOnTheSimulator } from './examples/lailaolab-simulator';
import { newpayWithSupertest } from './examples/newpay-supertest';
import { captureCli } from './run-cli';

/**
 * packages/testing/README.md is true: each of its TypeScript blocks is a file of test/examples,
 * byte for byte, and runs here with the result its comments state; its CLI commands run as
 * written against an app with the four gateways mounted, and print what it shows.
 */

const README = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
const EXAMPLES = path.join(__dirname, 'examples');

/** The fenced blocks of a language ('' for none), in order: each opening fence, then its close. */
function blocks(lang: string): string[] {
  const found: Array<{ lang: string; text: string }> = [];
  let open: { lang: string; lines: string[] } | undefined;
  for (const line of README.split('\n')) {
    const fence = /^```(\w*)$/.exec(line);
    if (open && fence && fence[1] === '') {
      found.push({ lang: open.lang, text: open.lines.map((l) => `${l}\n`).join('') });
      open = undefined;
    } else if (open) open.lines.push(line);
    else if (fence) open = { lang: fence[1]!, lines: [] };
  }
  return found.filter((b) => b.lang === lang).map((b) => b.text);
}

describe('the README TypeScript examples', () => {
  it('are the files of test/examples, byte for byte, each once', () => {
    const files = readdirSync(EXAMPLES)
      .filter((f) => f.endsWith('.ts'))
      .sort();
    const shown = blocks('ts').map((block) => {
      const file = files.find((f) => readFileSync(path.join(EXAMPLES, f), 'utf8') === block);
      return file ?? `a block that is no file:\n${block}`;
    });
    expect([...shown].sort()).toEqual(files);
  });

  it('NewPay with supertest: acknowledged, paid once, the forged copy gets 401', async () => {
    await expect(newpayWithSupertest()).resolves.toEqual({
      acknowledged: true,
      paid: ['A-1'],
      forgedStatus: 401,
    });
  });

  it('Cashy: the test key by default, or your own: each acknowledged by an app that has it', async () => {
    const saved = process.env.CASHY_API_KEY;
    delete process.env.CASHY_API_KEY;
    try {
      const ours = await cashyWithYourKey();
      const yours = await cashyWithYourKey('your-own-cashy-key');
      expect(ours.acknowledged).toBe(true);
      expect(yours.acknowledged).toBe(true);
      expect(yours.sign).not.toBe(ours.sign);
    } finally {
      if (saved !== undefined) process.env.CASHY_API_KEY = saved;
    }
  });

  it('Lailaolab: the payment played once the source is up is heard and confirmed', async () => {
    await expect(lailaolabOnTheSimulator()).resolves.toMatchObject({
      type: 'payment.completed',
      orderId: 'D-1',
      transactionId: 'T-1',
      amount: '100000',
      currency: 'LAK',
      verification: 'status-query',
    });
  });

  it('show the test values the code uses', () => {
    for (const value of [CASHY_TEST_API_KEY, CASHY_TEST_MERCHANT_ID, LAILAOLAB_TEST_SECRET])
      expect(README).toContain(`\`${value}\``);
  });
});

/** `npx payhook ...` lines of the CLI block, continuations joined, with their comments. */
function cliCommands(): Array<{ args: string[]; comment: string }> {
  const block = blocks('sh').find((b) => b.includes('npx payhook keys'));
  if (!block) throw new Error('the README has no CLI block');
  return block
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((line) => line.startsWith('npx payhook '))
    .map((line) => {
      const [command, comment = ''] = line.split(/\s+#\s*/);
      return { args: command!.trim().split(/\s+/).slice(2), comment };
    });
}

describe('the README CLI commands', () => {
  let cwd: string;
  let server: Server | undefined;
  let source: LailaolabSource | undefined;
  let stopSimulator: () => void = () => {};
  let simulating: Promise<number> | undefined;
  beforeAll(() => {
    cwd = mkdtempSync(path.join(tmpdir(), 'payhook-readme-'));
  });
  afterAll(async () => {
    await source?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    stopSimulator();
    await simulating;
    rmSync(cwd, { recursive: true, force: true });
  });

  /** runCli as `npx payhook` runs it, in the README's working directory. */
  const payhook = (args: string[], stopSignal?: () => Promise<void>) =>
    captureCli(args, { env: {}, cwd, stopSignal });

  it('run as written: keys, the sends (the forged one refused), the simulator', async () => {
    const commands = cliCommands();
    const [keys, ...rest] = commands;
    expect(keys!.args.slice(0, 1)).toEqual(['keys']);
    expect(await payhook(keys!.args)).toMatchObject({ code: EXIT.OK, stderr: '' });

    // `payhook simulate lailaolab` runs until stopped: it serves the rest of the commands.
    const simulate = rest.find((c) => c.args[0] === 'simulate')!;
    let simOut = '';
    let started!: () => void;
    const ready = new Promise<void>((resolve) => (started = resolve));
    simulating = runCli(simulate.args, {
      stdout: (t) => {
        simOut += t;
        if (simOut.includes('Ctrl-C to stop.')) started();
      },
      stderr: (t) => void (simOut += t),
      env: {},
      cwd,
      stopSignal: () => new Promise<void>((resolve) => (stopSimulator = resolve)),
    });
    await ready;
    const printed = (label: string): string =>
      new RegExp(`^ {2}${label} +(http://\\S+)`, 'm').exec(simOut)![1]!;
    const sim = {
      socket: printed('socket'),
      api: printed('status API'),
      control: printed('control'),
    };

    // The app the README points at, trusting the keys the first command wrote (appId 6).
    const hub = createPaymentHub();
    const rec: HubRecording = recordHub(hub);
    const publicKey = readFileSync(path.join(cwd, 'payhook-keys', 'public.pem'), 'utf8');
    source = createLailaolabSource(hub, {
      secretKey: LAILAOLAB_TEST_SECRET,
      url: sim.socket,
      statusQuery: { baseUrl: sim.api },
      confirmByStatusQuery: true,
      sweepIntervalMs: 0,
    });
    const app = express();
    app.use(
      '/webhooks/newpay',
      createNewpayMiddleware(hub, { platformPublicKey: publicKey, appId: 6 }),
    );
    app.use(
      '/webhooks/cashy',
      createPayinMiddleware(hub, {
        merchantId: CASHY_TEST_MERCHANT_ID,
        apiKey: CASHY_TEST_API_KEY,
      }),
    );
    app.use(
      '/webhooks/paycools',
      createSignedParamMiddleware(hub, { platformPublicKey: publicKey, country: 'PH' }),
    );
    app.use('/webhooks/lailaolab', createLailaolabMiddleware(hub, { source }));
    server = createServer(app);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await rec.until((r) => r.sources.some((s) => s.channel === 'source.up'), 'socket up');

    const outputs: string[] = [];
    for (const { args, comment } of rest.filter((c) => c !== simulate)) {
      const real = args.map((a) =>
        a.replace('http://localhost:3000', base).replace('http://127.0.0.1:<port>', sim.control),
      );
      const run = await payhook(real);
      const expected = /must be refused/.test(comment) ? EXIT.NOT_ACKNOWLEDGED : EXIT.OK;
      expect({ args, code: run.code, stderr: run.stderr }).toEqual({
        args,
        code: expected,
        stderr: '',
      });
      outputs.push(run.stdout.split(base).join('http://localhost:3000'));
    }

    // The sample output is what `send newpay payment` printed.
    const sample = blocks('').find((b) => b.startsWith('NewPay v1 payment callback'));
    expect(outputs).toContain(sample);
    await rec.until((r) => r.events.some((e) => e.orderId === 'D-1'), 'the Lailaolab payment');
    const seen = rec.events.map((e) => [e.type, e.orderId ?? e.transactionId, e.amount]);
    expect(seen).toEqual(
      expect.arrayContaining([
        ['payment.completed', 'A-1', '15000.00'],
        ['payment.refunded', 'A-1', '5000.00'],
        ['payment.completed', 'C-1', '100.10'],
        ['payment.completed', 'B-1', '500.10'],
        ['payment.completed', 'D-1', '100000'],
      ]),
    );
    stopSimulator();
    expect(await simulating).toBe(EXIT.OK);
  });
});
