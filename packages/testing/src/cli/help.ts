import { SEND_GATEWAYS } from '../gateways';
import { KEY_FILES } from '../keys';
import { LAILAOLAB_TEST_SECRET } from '../lailaolab';
import type { SendGateway } from './declare';

const WIDTH = 100;
const LEFT = 23;

/** `first` then `text`, wrapped at WIDTH with its next lines indented by `indent`. */
function wrap(first: string, text: string, indent: number): string {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(/\s+/)) {
    if (line.length + 1 + word.length > WIDTH && line.trim() !== '') {
      lines.push(line);
      line = ' '.repeat(indent - 1);
    }
    line += ` ${word}`;
  }
  return [...lines, line].join('\n');
}

/** `  --flag <v>           text`, the text wrapped under itself. */
const row = (left: string, text: string): string => wrap(`  ${left}`.padEnd(LEFT - 1), text, LEFT);

const EXIT_LINES = `Exit codes: 0 ok; 1 delivered but not acknowledged (the gateway would retry);
2 usage or input error; 3 I/O failure (unreachable URL, port in use, unwritable files).`;

export function mainHelp(): string {
  return `payhook: try payment gateways on your own machine, no account needed

Usage:
  payhook send <gateway> <event> --url <url> [options]   post a signed delivery to your app
  payhook send --fixtures <module> <gateway> <event> …   a plugin's own gateway, from its module
  payhook keys [--out <dir>] [--force]                   write a test RSA key pair
  payhook simulate lailaolab [--secret <key>] [--port <n>]  run the Lailaolab simulator

Deprecated (run @payhook/postgres's own bin instead; these forward to it):
  payhook postgres migrate …     now: payhook-postgres migrate [--check] [--database-url <url>]
  payhook worker …               now: payhook-postgres worker --listeners <module> [options]
  payhook dead-letters …         now: payhook-postgres dead-letters list|retry <id>|retry-all|stats

Gateways: ${SEND_GATEWAYS.map((g) => g.gateway).join(', ')}
Run "payhook <command> --help" for a command's options.

${EXIT_LINES}
`;
}

/** One gateway's part of `send --help`, from its declaration. */
function gatewayHelp(g: SendGateway<unknown>): string {
  return [
    wrap(`${g.gateway}:`, g.summary, 3),
    ...Object.entries(g.events).map(([name, event]) => row(name, event.summary)),
    ...Object.entries(g.options).map(([flag, option]) =>
      row(`--${flag}${option.value ? ` ${option.value}` : ''}`, option.help),
    ),
    row('--amount', g.amountHelp),
    row('--transaction', g.transactionHelp),
  ].join('\n');
}

/** `send --help`: the built-in gateways, and those a --fixtures module added for this run. */
export function sendHelp(
  gateways: readonly SendGateway<unknown>[] = SEND_GATEWAYS,
  fixtures?: { spec: string; gateways: readonly SendGateway<unknown>[] },
): string {
  const from = (g: SendGateway<unknown>): string =>
    fixtures?.gateways.includes(g) ? `(from --fixtures ${fixtures.spec})\n` : '';
  return `payhook send <gateway> <event> --url <url> [options]

Posts a delivery exactly as the gateway would (headers, body bytes, signature) and prints what the
gateway sees: the status, the body, and whether it was the gateway's success answer.

Options:
${[
  row('--url <url>', 'your webhook endpoint (required unless a gateway below says otherwise)'),
  row('--order <id>', 'your order number (default: a new one)'),
  row(
    '--amount <decimal>',
    'amount in major units, no more decimals than the currency has; the refunded amount for refunds',
  ),
  row('--transaction <id>', "the gateway's transaction id; derived from --order when absent"),
  row('--forge', 'change one digit of the body after signing (the app must refuse it)'),
  row('--timeout <ms>', 'default 10000'),
  row(
    '--fixtures <module>',
    "a plugin's fixtures module (ESM or CommonJS, path from the current directory) exporting " +
      'gateway declarations made with defineSendGateway of @payhook/testing: its gateways, ' +
      'events and options join the ones below for this run (and this help)',
  ),
  row('--json', 'print one JSON object instead of text'),
  '  -h, --help',
].join('\n')}

Gateways, their events and options:

${gateways.map((g) => `${from(g)}${gatewayHelp(g)}`).join('\n\n')}

Exit codes: 0 acknowledged with the gateway's success body; 1 answered otherwise (the gateway
would retry), or, for lailaolab with --simulator only, no app connected; 2 usage or input
error; 3 URL unreachable or timed out.
`;
}

export const KEYS_HELP = `payhook keys [--out <dir>] [--force]

Writes a fresh RSA key pair for testing, as a gateway would hold it:
  <dir>/${KEY_FILES.privateKey}     the gateway's private key: give it to "payhook send --key"
  <dir>/${KEY_FILES.publicKey}      the public key (PEM): configure your app's plugin with it
  <dir>/${KEY_FILES.publicKeyBase64}   the same as bare Base64 DER, the form gateway portals show
  <dir>/.gitignore      keeps the keys out of git: "*" in a directory of its own; in a
                        directory with other files, "/${KEY_FILES.privateKey}" added to its .gitignore

Options:
  --out <dir>   default ./payhook-keys
  --force       overwrite existing files (each is replaced, never written through:
                a symbolic link at a key file is refused, with or without --force)
  --json        print the file paths as JSON
  -h, --help

The private key is 0600 from its first byte; the public files are 0644.
Exit codes: 0 written; 2 files exist (use --force) or a key file is a symbolic link;
3 not writable.
`;

export const SIMULATE_HELP = `payhook simulate lailaolab [options]

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
