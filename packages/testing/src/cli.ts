import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, isPaymentError } from '@payhook/core';
import { CASHY_TEST_API_KEY, CASHY_TEST_MERCHANT_ID, createCashyFixtures } from './cashy';
import { startSimulatorControl } from './control';
import { forgeDelivery, postFixture, type DeliveryView, type GatewayDelivery } from './delivery';
import { testKeyPairFrom, writeTestKeyPair, KEY_FILES } from './keys';
import { createLailaolabFixtures, LAILAOLAB_TEST_SECRET } from './lailaolab';
import { startLailaolabSimulator } from './lailaolab-simulator';
import { createNewpayFixtures } from './newpay';
import { GATEWAY_PLUGINS, MissingPluginError, requirePlugin } from './plugins';
import { createSignedParamFixtures, type SignedParamPlugin } from './signed-param';

// The builders load their gateway's plugin when called (they are optional peers): a command
// loads only the plugin it uses, and a plugin that is not installed fails only the commands that
// need it. socket.io, too, loads only when the simulator starts.
const NEWPAY_DEFAULT_APP_ID = '6';

/** Exit codes, for scripts. */
export const EXIT = {
  /** Done: the delivery got the gateway's success body (send), keys written, simulator stopped. */
  OK: 0,
  /** Delivered, but the app's answer was not the gateway's success body: the gateway would retry. */
  NOT_ACKNOWLEDGED: 1,
  /** Bad usage or input: unknown command, gateway or event, missing or bad option, unreadable key. */
  USAGE: 2,
  /** I/O failure: URL unreachable or timed out, port in use, key files not writable. */
  IO: 3,
} as const;

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Resolves when the process is asked to stop (simulate). Default: SIGINT or SIGTERM. */
  stopSignal?: () => Promise<void>;
}

class UsageError extends Error {}
class IoError extends Error {}

const GATEWAYS = {
  newpay: ['payment', 'failed', 'refund'],
  cashy: ['payment', 'failed'],
  'signed-param': ['payment', 'failed', 'refund', 'payout'],
  lailaolab: ['payment', 'failed'],
} as const;
type Gateway = keyof typeof GATEWAYS;

const MAIN_HELP = `payhook: try payment gateways on your own machine, no account needed

Usage:
  payhook send <gateway> <event> --url <url> [options]   post a signed delivery to your app
  payhook keys [--out <dir>] [--force]                   write a test RSA key pair
  payhook simulate lailaolab [--secret <key>] [--port <n>]  run the Lailaolab simulator

Gateways: newpay, cashy, signed-param, lailaolab
Run "payhook <command> --help" for a command's options.

Exit codes: 0 ok; 1 delivered but not acknowledged (the gateway would retry);
2 usage or input error; 3 I/O failure (unreachable URL, port in use, unwritable files).
`;

const SEND_HELP = `payhook send <gateway> <event> --url <url> [options]

Posts a delivery exactly as the gateway would (headers, body bytes, signature) and prints what the
gateway sees: the status, the body, and whether it was the gateway's success answer.

Gateways and events:
  newpay        payment | failed | refund     (v1 callbacks; --v2 for v2)
  cashy         payment | failed
  signed-param  payment | failed | refund | payout
  lailaolab     payment | failed              (unsigned: the app confirms through its status API)

Options:
  --url <url>          your webhook endpoint (required, except lailaolab with --simulator)
  --order <id>         your order number (default: a new one)
  --amount <decimal>   amount in major units, no more decimals than the currency has (NewPay
                       2; signed-param ID whole rupiah, else 2; lailaolab whole kip); the
                       refunded amount for refunds. Defaults: newpay 15000.00 (refund 5000.00),
                       cashy 100.10, signed-param 500.10 (ID 50000; refund 100, payout 20000),
                       lailaolab 100000
  --transaction <id>   gateway transaction id (signed-param refund: the refunded payment's;
                       lailaolab: the QR's); derived from --order when absent
  --key <file>         newpay, signed-param: the gateway's private key (PEM or Base64 DER),
                       e.g. from "payhook keys"; env PAYHOOK_PRIVATE_KEY (a file path)
  --app-id <id>        newpay: your app's NewPay appId, which the app checks (default ${NEWPAY_DEFAULT_APP_ID});
                       the output says which appId it signed with
  --v2                 newpay: send the v2 callback instead of v1
  --merchant-id <id>   cashy: merchant id (env CASHY_MERCHANT_ID, default ${CASHY_TEST_MERCHANT_ID})
  --api-key <key>      cashy: apiKey (env CASHY_API_KEY, default ${CASHY_TEST_API_KEY},
                       CASHY_TEST_API_KEY of @payhook/testing)
  --country <cc>       signed-param: PH, ID, MY, TH or RU (default PH)
  --simulator <url>    lailaolab: control URL of "payhook simulate lailaolab"; the payment is
                       registered and played there first (its socket emits it, its status API agrees)
  --forge              change one digit of the body after signing (the app must refuse it)
  --timeout <ms>       default 10000
  --json               print one JSON object instead of text
  -h, --help

Exit codes: 0 acknowledged with the gateway's success body; 1 answered otherwise (the gateway
would retry), or, for lailaolab with --simulator only, no app connected; 2 usage or input
error; 3 URL unreachable or timed out.
`;

const KEYS_HELP = `payhook keys [--out <dir>] [--force]

Writes a fresh RSA key pair for testing, as a gateway would hold it:
  <dir>/${KEY_FILES.privateKey}     the gateway's private key: give it to "payhook send --key"
  <dir>/${KEY_FILES.publicKey}      the public key (PEM): configure your app's plugin with it
  <dir>/${KEY_FILES.publicKeyBase64}   the same as bare Base64 DER, the form gateway portals show
  <dir>/.gitignore      keeps the keys out of git: "*" in a directory of its own; in a
                        directory with other files, "/${KEY_FILES.privateKey}" added to its .gitignore

Options:
  --out <dir>   default ./payhook-keys
  --force       overwrite existing files
  --json        print the file paths as JSON
  -h, --help

Exit codes: 0 written; 2 files exist (use --force); 3 not writable.
`;

const SIMULATE_HELP = `payhook simulate lailaolab [options]

Runs a local Lailaolab (PhaJay): a Socket.IO server emitting join::<secret> messages, its status
API, and a control endpoint for "payhook send lailaolab ... --simulator <control url>".
Point your app's Lailaolab source at the printed socket URL and status API. Stops on Ctrl-C.

Options:
  --secret <key>   channel secret (env LAILAOLAB_SECRET_KEY, default ${LAILAOLAB_TEST_SECRET})
  --port <n>       control port (default: any free port)
  --json           print the URLs as one JSON line
  -h, --help

Exit codes: 0 stopped by a signal; 2 usage error; 3 the port is in use.
`;

const COMMON = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function defaultStop(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

/** Runs the CLI; resolves with the exit code (the bin sets process.exitCode with it). */
export async function main(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const out: CliIo = {
    stdout: io.stdout ?? ((t) => process.stdout.write(t)),
    stderr: io.stderr ?? ((t) => process.stderr.write(t)),
    env: io.env ?? process.env,
    cwd: io.cwd ?? process.cwd(),
    stopSignal: io.stopSignal ?? defaultStop,
  };
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'send':
        return await send(rest, out);
      case 'keys':
        return keys(rest, out);
      case 'simulate':
        return await simulate(rest, out);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        out.stdout(MAIN_HELP);
        return command === undefined ? EXIT.USAGE : EXIT.OK;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      out.stderr(`payhook: ${error.message}\nRun "payhook --help" for usage.\n`);
      return EXIT.USAGE;
    }
    if (error instanceof IoError) {
      out.stderr(`payhook: ${error.message}\n`);
      return EXIT.IO;
    }
    // A gateway plugin that is not installed: say which package to install.
    if (error instanceof MissingPluginError) {
      out.stderr(`payhook: ${error.hint}\n`);
      return EXIT.USAGE;
    }
    // A configuration error of a plugin the steps below did not tie to a flag: still the input.
    if (isPaymentError(error)) {
      out.stderr(`payhook: ${error.message}\n`);
      return EXIT.USAGE;
    }
    throw error;
  }
}

/** ECONNREFUSED, ENOTFOUND, "timed out"...: what fetch's error says about the network. */
function networkReason(error: unknown): string {
  const e = error as {
    name?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(error);
}

/** An option's value and how the user gave it: the flag, or else the environment variable. */
interface Given {
  value: string | undefined;
  /** `--api-key` or `CASHY_API_KEY`: what error messages name. */
  name: string;
}

function given(flag: string, value: string | undefined, envName: string, io: CliIo): Given {
  if (value !== undefined) return { value, name: flag };
  return { value: io.env[envName], name: envName };
}

/** `option "privateKey" is not ...` → `is not ...`: the problem, without the library's name. */
function problemOf(error: ConfigError): string {
  return error.message.replace(/^.*?: option "[^"]*" /, '');
}

/**
 * Runs a step whose only user input is one option, so that a plugin's ConfigError about it names
 * what the user typed (`--key`), not the library's option (`privateKey`).
 */
function about<T>(name: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof ConfigError && !(error instanceof MissingPluginError))
      throw new UsageError(`${name} ${problemOf(error)}`);
    throw error;
  }
}

function nonEmpty(option: Given): string | undefined {
  if (option.value !== undefined && option.value.trim() === '')
    throw new UsageError(`${option.name} is empty`);
  return option.value;
}

function readKey(file: string | undefined, gateway: string, io: CliIo) {
  const key = given('--key', file, 'PAYHOOK_PRIVATE_KEY', io);
  const keyFile = key.value;
  if (!keyFile)
    throw new UsageError(
      `${gateway} deliveries are signed with the gateway's RSA private key: give --key <file> ` +
        `(or PAYHOOK_PRIVATE_KEY); "payhook keys" writes a test pair`,
    );
  let text: string;
  try {
    text = readFileSync(path.resolve(io.cwd, keyFile), 'utf8');
  } catch (error) {
    throw new UsageError(
      `${key.name} ${keyFile}: cannot read the key file (${(error as NodeJS.ErrnoException).code})`,
    );
  }
  return about(`${key.name} ${keyFile}`, () => testKeyPairFrom(text));
}

const DECIMAL = /^\d+(\.\d+)?$/;

/**
 * `--amount` as decimal major units with at most `places` decimals, the currency's minor units:
 * the gateway writes integer minor units (or a fixed scale), so more would not be an amount.
 */
function checkAmount(
  amount: string | undefined,
  currency: { code: string; places?: number },
): string | undefined {
  if (amount === undefined) return undefined;
  if (!DECIMAL.test(amount)) throw new UsageError(`--amount "${amount}" is not a decimal amount`);
  const decimals = (amount.split('.')[1] ?? '').replace(/0+$/, '').length;
  const places = currency.places;
  if (places !== undefined && decimals > places)
    throw new UsageError(
      places === 0
        ? `--amount "${amount}" has decimals, but ${currency.code} has no minor unit: give a whole amount`
        : `--amount "${amount}" has more than ${places} decimal places, the most ${currency.code} has`,
    );
  return amount;
}

async function send(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    ...COMMON,
    url: { type: 'string' },
    order: { type: 'string' },
    amount: { type: 'string' },
    transaction: { type: 'string' },
    key: { type: 'string' },
    'app-id': { type: 'string' },
    v2: { type: 'boolean' },
    'merchant-id': { type: 'string' },
    'api-key': { type: 'string' },
    country: { type: 'string' },
    simulator: { type: 'string' },
    forge: { type: 'boolean' },
    timeout: { type: 'string' },
  });
  if (values.help) {
    io.stdout(SEND_HELP);
    return EXIT.OK;
  }
  const [gatewayArg, event, extra] = positionals;
  if (!gatewayArg || !event) throw new UsageError('send needs <gateway> and <event>');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  if (!(gatewayArg in GATEWAYS))
    throw new UsageError(
      `unknown gateway "${gatewayArg}" (one of ${Object.keys(GATEWAYS).join(', ')})`,
    );
  const gateway = gatewayArg as Gateway;
  if (!(GATEWAYS[gateway] as readonly string[]).includes(event))
    throw new UsageError(
      `${gateway} has no event "${event}" (one of ${GATEWAYS[gateway].join(', ')})`,
    );
  // Before anything else about the gateway: without its plugin, no option can help.
  requirePlugin(GATEWAY_PLUGINS[gateway], `payhook send ${gateway}`);
  const url = values.url;
  if (url !== undefined && !/^https?:\/\/./.test(url))
    throw new UsageError(`--url "${url}" is not an http(s) URL`);
  if (!url && !(gateway === 'lailaolab' && values.simulator))
    throw new UsageError('--url <your webhook endpoint> is required');
  const timeoutMs = values.timeout === undefined ? 10_000 : Number(values.timeout);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0)
    throw new UsageError('--timeout must be a positive number of milliseconds');
  const order = values.order ?? `payhook-${Date.now().toString(36)}`;

  let delivery: GatewayDelivery | undefined;
  /** What the app must agree with beyond the signature (NewPay's appId), shown with the result. */
  let signedFor: { appId: string } | undefined;
  let socketNote: string | undefined;
  let socketHeard = true;
  switch (gateway) {
    case 'newpay': {
      const keys = readKey(values.key, 'NewPay', io);
      const appId = nonEmpty({ value: values['app-id'], name: '--app-id' });
      const fixtures = about('--app-id', () =>
        createNewpayFixtures({
          keys,
          appId: appId ?? NEWPAY_DEFAULT_APP_ID,
          version: values.v2 ? 2 : 1,
        }),
      );
      signedFor = { appId: fixtures.appId };
      // NewPay writes amounts with 2 decimals (`orderAmt` "15000.00"), whatever the currency.
      const amount = checkAmount(values.amount, { code: 'NewPay', places: 2 });
      delivery =
        event === 'refund'
          ? fixtures.refundCallback({
              orderNo: order,
              amount: amount ?? '5000.00',
              newpayOrderNo: values.transaction,
            })
          : fixtures.paymentCallback({
              orderNo: order,
              amount,
              status: event === 'failed' ? 'failed' : 'success',
              newpayOrderNo: values.transaction,
            });
      break;
    }
    case 'cashy': {
      const merchant = given('--merchant-id', values['merchant-id'], 'CASHY_MERCHANT_ID', io);
      const merchantId = merchant.value ?? CASHY_TEST_MERCHANT_ID;
      if (!/^\d+$/.test(merchantId)) throw new UsageError(`${merchant.name} must be digits`);
      const apiKey = given('--api-key', values['api-key'], 'CASHY_API_KEY', io);
      const fixtures = about(apiKey.name, () =>
        createCashyFixtures({ merchantId, apiKey: nonEmpty(apiKey) ?? CASHY_TEST_API_KEY }),
      );
      delivery = fixtures.payin({
        mchOrderNo: order,
        // Cashy writes the amount as a bare JSON decimal: any scale is one it can carry.
        amount: checkAmount(values.amount, { code: 'Cashy' }),
        status: event === 'failed' ? 'failed' : 'success',
        orderNo: values.transaction,
      });
      break;
    }
    case 'signed-param': {
      const { COUNTRIES, isCountryCode } = requirePlugin<SignedParamPlugin>(
        GATEWAY_PLUGINS['signed-param'],
        'payhook send signed-param',
      );
      const country = values.country ?? 'PH';
      if (!isCountryCode(country))
        throw new UsageError(`--country must be one of ${Object.keys(COUNTRIES).join(', ')}`);
      const fixtures = createSignedParamFixtures({
        keys: readKey(values.key, 'signed-param', io),
        country,
      });
      // The platform sends integer minor units: IDR has none, the other currencies cents.
      const { currency, exponent } = COUNTRIES[country];
      const amount = checkAmount(values.amount, { code: currency, places: exponent });
      delivery =
        event === 'refund'
          ? fixtures.refund({
              transactionId: values.transaction ?? fixtures.transactionIdOf(order),
              amount: amount ?? '100.00',
            })
          : event === 'payout'
            ? fixtures.payout({ orderId: order, amount })
            : fixtures.payment({
                orderId: order,
                amount,
                status: event === 'failed' ? 'failed' : 'success',
                transactionId: values.transaction,
              });
      break;
    }
    case 'lailaolab': {
      const secret = { value: io.env.LAILAOLAB_SECRET_KEY, name: 'LAILAOLAB_SECRET_KEY' };
      const fixtures = about(secret.name, () =>
        createLailaolabFixtures({ secretKey: nonEmpty(secret) ?? LAILAOLAB_TEST_SECRET }),
      );
      if (values.amount !== undefined && !/^\d+$/.test(values.amount))
        throw new UsageError(`--amount "${values.amount}" is not whole kip`);
      const amount = values.amount ?? '100000';
      const transactionId = values.transaction ?? `${order}-qr`;
      if (values.simulator) {
        const played = await playOnSimulator(values.simulator, {
          transactionId,
          orderNo: order,
          amount,
          outcome: event === 'failed' ? 'fail' : 'pay',
          timeoutMs,
        });
        socketHeard = played.clients > 0;
        socketNote = `simulator: emitted on join::<secret> to ${played.clients} connected client(s); status API says ${event === 'failed' ? 'WAITING' : 'PAYMENT_COMPLETED'}`;
        delivery = fixtures.webhookFor(played.message as Parameters<typeof fixtures.webhookFor>[0]);
      } else {
        delivery = fixtures.webhook({
          transactionId,
          amount,
          status: event === 'failed' ? 'failed' : 'success',
        });
      }
      break;
    }
  }
  if (values.forge) delivery = forgeDelivery(delivery);

  let view: DeliveryView | undefined;
  if (url) {
    try {
      view = await postFixture(url, delivery, { timeoutMs });
    } catch (error) {
      throw new IoError(`could not deliver to ${url} (${networkReason(error)})`);
    }
  }
  const code = view
    ? view.acknowledged
      ? EXIT.OK
      : EXIT.NOT_ACKNOWLEDGED
    : socketHeard
      ? EXIT.OK
      : EXIT.NOT_ACKNOWLEDGED;
  if (values.json) {
    io.stdout(
      `${JSON.stringify({
        gateway,
        event,
        order,
        description: delivery.description,
        request: url ? { url, headers: delivery.headers, body: delivery.body } : null,
        response: view
          ? { status: view.status, contentType: view.contentType, body: view.body }
          : null,
        acknowledged: view ? view.acknowledged : null,
        ...(signedFor ?? {}),
        simulator: socketNote ?? null,
        exitCode: code,
      })}\n`,
    );
    return code;
  }
  const lines = [delivery.description];
  if (signedFor)
    lines.push(
      `signed for appId ${signedFor.appId} (--app-id <id>): your app's NewPay appId must be the same`,
    );
  if (socketNote) lines.push(socketNote);
  if (view) {
    lines.push(`→ POST ${url}`);
    lines.push(`← ${view.status} ${view.contentType ?? ''}`.trimEnd());
    lines.push(`  ${view.body.length > 500 ? `${view.body.slice(0, 500)}…` : view.body}`);
    lines.push(
      view.acknowledged
        ? `acknowledged: yes, the gateway's success answer (${delivery.successAck.status} ${delivery.successAck.body}); it stops retrying`
        : `acknowledged: no, the gateway expects ${delivery.successAck.status} ${delivery.successAck.body}; it would deliver again`,
    );
  } else if (!socketHeard) {
    lines.push('no app is connected to the simulator: nobody heard the payment');
  }
  io.stdout(`${lines.join('\n')}\n`);
  return code;
}

async function playOnSimulator(
  control: string,
  p: {
    transactionId: string;
    orderNo: string;
    amount: string;
    outcome: 'pay' | 'fail';
    timeoutMs: number;
  },
): Promise<{ message: unknown; clients: number }> {
  const call = async (pathname: string, body: unknown): Promise<Record<string, unknown>> => {
    let response: Response;
    try {
      response = await fetch(new URL(pathname, control), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(p.timeoutMs),
      });
    } catch (error) {
      throw new IoError(`could not reach the simulator at ${control} (${networkReason(error)})`);
    }
    const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok)
      throw new UsageError(
        `the simulator refused ${pathname}: ${String(json.error ?? response.status)}`,
      );
    return json;
  };
  await call('/transactions', {
    transactionId: p.transactionId,
    orderNo: p.orderNo,
    amount: p.amount,
  });
  const played = await call(
    `/transactions/${encodeURIComponent(p.transactionId)}/${p.outcome}`,
    {},
  );
  return { message: played.message, clients: Number(played.clients ?? 0) };
}

function keys(args: string[], io: CliIo): number {
  const { values, positionals } = parse(args, {
    ...COMMON,
    out: { type: 'string' },
    force: { type: 'boolean' },
  });
  if (values.help) {
    io.stdout(KEYS_HELP);
    return EXIT.OK;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const dir = path.resolve(io.cwd, values.out ?? 'payhook-keys');
  const existing = Object.values(KEY_FILES)
    .map((f) => path.join(dir, f))
    .filter((f) => existsSync(f));
  if (existing.length > 0 && !values.force)
    throw new UsageError(`${existing.join(', ')} already exist: use --force to overwrite`);
  let written;
  let ignore;
  try {
    written = writeTestKeyPair(dir, { force: values.force });
    ignore = ignoreKeys(dir);
  } catch (error) {
    throw new IoError(`cannot write keys in ${dir} (${(error as NodeJS.ErrnoException).code})`);
  }
  if (values.json) io.stdout(`${JSON.stringify({ ...written.files, gitignore: ignore.file })}\n`);
  else
    io.stdout(
      [
        `wrote a test RSA key pair in ${dir}`,
        `  ${written.files.privateKey}   the gateway's private key: payhook send ... --key ${written.files.privateKey}`,
        `  ${written.files.publicKey}    configure the plugin's platformPublicKey with it`,
        `  ${written.files.publicKeyBase64} the same as bare Base64 DER`,
        `  ${ignore.file}    ${ignore.note}`,
        '',
      ].join('\n'),
    );
  return EXIT.OK;
}

const OWN_FILES = new Set<string>([...Object.values(KEY_FILES), '.gitignore']);

/**
 * Keeps the private key out of git: it signs as the gateway, and a committed one is a key anyone
 * can sign with. A directory holding only the keys gets a `.gitignore` of `*`; in a directory with
 * other files (`--out .`), the line `/private.pem` is added to its .gitignore, so nothing else of
 * the user's is ignored.
 */
function ignoreKeys(dir: string): { file: string; note: string } {
  const file = path.join(dir, '.gitignore');
  const own = readdirSync(dir).every((name) => OWN_FILES.has(name));
  if (!existsSync(file) && own) {
    writeFileSync(file, '# written by payhook keys: test keys stay out of git\n*\n');
    return { file, note: 'written ("*"): git ignores the keys, the private one above all' };
  }
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  const covers = ['*', KEY_FILES.privateKey, `/${KEY_FILES.privateKey}`];
  if (lines.some((line) => covers.includes(line)))
    return { file, note: `already ignores ${KEY_FILES.privateKey}: git will not commit it` };
  appendFileSync(file, `${text && !text.endsWith('\n') ? '\n' : ''}/${KEY_FILES.privateKey}\n`);
  return { file, note: `"/${KEY_FILES.privateKey}" added: git will not commit the private key` };
}

async function simulate(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    ...COMMON,
    secret: { type: 'string' },
    port: { type: 'string' },
  });
  if (values.help) {
    io.stdout(SIMULATE_HELP);
    return EXIT.OK;
  }
  const [target, extra] = positionals;
  if (target !== 'lailaolab')
    throw new UsageError(
      target
        ? `no simulator for "${target}" (only lailaolab: the other gateways are plain HTTP, use "payhook send")`
        : 'simulate needs a gateway: lailaolab',
    );
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError('--port must be a port number');
  const secretGiven = nonEmpty(given('--secret', values.secret, 'LAILAOLAB_SECRET_KEY', io));
  // The simulator plays the gateway: it needs socket.io (a dependency), not the plugin, so it
  // also serves an app that runs elsewhere.
  const simulator = await startLailaolabSimulator({
    secretKey: secretGiven ?? LAILAOLAB_TEST_SECRET,
  });
  let control;
  try {
    control = await startSimulatorControl(simulator, { port });
  } catch (error) {
    await simulator.close();
    throw new IoError(`cannot listen on port ${port} (${(error as NodeJS.ErrnoException).code})`);
  }
  const info = {
    socketUrl: simulator.socketBase,
    apiBase: simulator.apiBase,
    control: control.url,
  };
  if (values.json) io.stdout(`${JSON.stringify(info)}\n`);
  else
    io.stdout(
      [
        'Lailaolab simulator running',
        `  socket      ${info.socketUrl}   (the source's url option)`,
        `  status API  ${info.apiBase}   (apiBase)`,
        // A secret the user typed is not echoed; the built-in one is a public test value.
        `  secret      ${secretGiven ? 'the one you gave' : `${LAILAOLAB_TEST_SECRET} (test value)`}   (secretKey)`,
        `  control     ${info.control}`,
        `Play a payment: payhook send lailaolab payment --simulator ${info.control} [--url <your webhook>]`,
        'Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  await io.stopSignal!();
  await control.close();
  await simulator.close();
  if (!values.json) io.stdout('simulator stopped\n');
  return EXIT.OK;
}
