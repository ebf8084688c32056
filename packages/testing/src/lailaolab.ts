import { successAckOf, type GatewayDelivery } from './delivery';
import { SOURCE } from './keys';
import {
  buildLailaolabMessage,
  startLailaolabSimulator,
  type LailaolabMessage,
  type LailaolabSimulator,
  type LailaolabSimulatorOptions,
} from './lailaolab-simulator';
import { GATEWAY_PLUGINS, requirePlugin, type AnsweringProvider } from './plugins';
import { about, nonEmpty } from './cli/args';
import { defineSendGateway, outcomeEvents, type SendInput, type Sent } from './cli/declare';
import { UsageError } from './cli/errors';
import { playOnSimulator } from './cli/simulator-client';

/** What the builders use of @payhook/lailaolab-socket (see plugins.ts). */
export interface LailaolabPlugin {
  createLailaolabProvider: (options: { secretKey: string; timeZone?: string }) => AnsweringProvider;
}

/**
 * Lailaolab (PhaJay) messages built with the simulator's builder (buildLailaolabMessage), and the
 * simulator. The channel and the portal webhook carry no signature: authenticity is the secret
 * channel, or the status API, which the simulator plays. The plugin gives the success answer.
 */

/** The test secret used when none is given. Real secrets come from the PhaJay portal. */
export const LAILAOLAB_TEST_SECRET = 'payhook-test-secret';

export interface LailaolabFixtureOptions {
  secretKey?: string;
  /** Zone of `txnDateTime` (default Asia/Vientiane). */
  timeZone?: string;
}

export interface LailaolabMessageFields {
  transactionId: string;
  /** Whole kip (default "100000"). */
  amount?: string | number;
  /** success → message SUCCESS, failed → FAILED. Default success. */
  status?: 'success' | 'failed';
  at?: Date;
  /** The observed `DD/MM/YYYY` date format instead of the documented `YYYY-MM-DD`. */
  dateFormat?: 'ymd' | 'dmy';
  extra?: Record<string, unknown>;
}

export interface LailaolabFixtures {
  readonly gateway: 'lailaolab';
  readonly secretKey: string;
  /** A message as the gateway emits it on `join::<secret>` (and posts to the portal webhook). */
  message(fields: LailaolabMessageFields): LailaolabMessage;
  /** The same message as the portal webhook POSTs it. */
  webhook(fields: LailaolabMessageFields): GatewayDelivery;
  /** A message already built (e.g. returned by the simulator's `pay`) as the webhook POSTs it. */
  webhookFor(message: LailaolabMessage): GatewayDelivery;
  /** Starts the simulator (socket.io server + status API on 127.0.0.1) with this secret. */
  startSimulator(options?: Partial<LailaolabSimulatorOptions>): Promise<LailaolabSimulator>;
  /** Options for the plugin's provider, source or middleware pointed at a simulator. */
  providerOptions(simulator?: Pick<LailaolabSimulator, 'apiBase'>): {
    secretKey: string;
    statusQuery?: { baseUrl: string };
    timeZone?: string;
  };
  /** Source options pointed at a simulator's socket and status API. */
  sourceOptions(simulator: Pick<LailaolabSimulator, 'apiBase' | 'socketBase'>): {
    secretKey: string;
    statusQuery: { baseUrl: string };
    url: string;
    timeZone?: string;
  };
}

/** Kip as the gateway writes it: a JSON integer. */
function kip(amount: string | number): number | string {
  const text = String(amount).trim();
  if (!/^\d+$/.test(text)) throw new TypeError(`${SOURCE}: Lailaolab amounts are whole kip`);
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

export function createLailaolabFixtures(options: LailaolabFixtureOptions = {}): LailaolabFixtures {
  const { createLailaolabProvider } = requirePlugin<LailaolabPlugin>(
    GATEWAY_PLUGINS.lailaolab,
    'createLailaolabFixtures',
  );
  const secretKey = options.secretKey ?? LAILAOLAB_TEST_SECRET;
  const timeZone = options.timeZone;
  const successAck = successAckOf(createLailaolabProvider({ secretKey, timeZone }).ack.ok);
  const message = (fields: LailaolabMessageFields): LailaolabMessage =>
    buildLailaolabMessage({
      transactionId: fields.transactionId,
      amount: kip(fields.amount ?? '100000'),
      outcome: fields.status === 'failed' ? 'FAILED' : 'SUCCESS',
      at: fields.at,
      dateFormat: fields.dateFormat,
      timeZone,
      extra: fields.extra,
    });
  return {
    gateway: 'lailaolab',
    secretKey,
    message,
    webhook(fields) {
      return this.webhookFor(message(fields));
    },
    webhookFor(msg) {
      return {
        gateway: 'lailaolab',
        description: `Lailaolab webhook: transaction ${msg.transactionId}, ${msg.txnAmount} kip, ${msg.message}`,
        body: JSON.stringify(msg),
        headers: { 'content-type': 'application/json' },
        successAck,
      };
    },
    startSimulator: (simOptions = {}) =>
      startLailaolabSimulator({ secretKey, timeZone, ...simOptions }),
    providerOptions: (simulator) => ({
      secretKey,
      ...(simulator ? { statusQuery: { baseUrl: simulator.apiBase } } : {}),
      ...(timeZone ? { timeZone } : {}),
    }),
    sourceOptions: (simulator) => ({
      secretKey,
      statusQuery: { baseUrl: simulator.apiBase },
      url: simulator.socketBase,
      ...(timeZone ? { timeZone } : {}),
    }),
  };
}

interface LailaolabSendContext {
  fixtures: LailaolabFixtures;
  amount: string;
  transactionId: string;
}

/** Plays the payment on a running simulator (its socket emits it), then webhooks the message. */
async function playedDelivery(
  c: LailaolabSendContext,
  input: SendInput,
  status: 'success' | 'failed',
): Promise<Sent> {
  const played = await playOnSimulator(input.text('simulator')!, {
    transactionId: c.transactionId,
    orderNo: input.order,
    amount: c.amount,
    outcome: status === 'failed' ? 'fail' : 'pay',
    timeoutMs: input.timeoutMs,
  });
  const note = `simulator: emitted on join::<secret> to ${played.clients} connected client(s); status API says ${status === 'failed' ? 'WAITING' : 'PAYMENT_COMPLETED'}`;
  return {
    delivery: c.fixtures.webhookFor(played.message as LailaolabMessage),
    notes: [{ text: note, json: { simulator: note } }],
    ...(played.clients > 0
      ? {}
      : { unheard: 'no app is connected to the simulator: nobody heard the payment' }),
  };
}

/** `payhook send lailaolab <event>`. */
export const lailaolabSend = defineSendGateway<LailaolabSendContext>({
  gateway: 'lailaolab',
  plugin: GATEWAY_PLUGINS.lailaolab,
  summary: `unsigned portal webhooks: the app confirms through the status API (env LAILAOLAB_SECRET_KEY, default ${LAILAOLAB_TEST_SECRET})`,
  amountHelp: 'whole kip; default 100000',
  transactionHelp: "the QR's transaction id (default <order>-qr)",
  options: {
    simulator: {
      type: 'string',
      value: '<url>',
      help: 'control URL of "payhook simulate lailaolab"; the payment is registered and played there first (its socket emits it, its status API agrees); --url may then be left out',
    },
  },
  urlOptional: (input) => Boolean(input.text('simulator')),
  setup(input) {
    const secret = { value: input.io.env.LAILAOLAB_SECRET_KEY, name: 'LAILAOLAB_SECRET_KEY' };
    const fixtures = about(secret.name, () =>
      createLailaolabFixtures({ secretKey: nonEmpty(secret) ?? LAILAOLAB_TEST_SECRET }),
    );
    if (input.amount !== undefined && !/^\d+$/.test(input.amount))
      throw new UsageError(`--amount "${input.amount}" is not whole kip`);
    const transactionId = input.transaction ?? `${input.order}-qr`;
    return { fixtures, amount: input.amount ?? '100000', transactionId };
  },
  events: outcomeEvents<LailaolabSendContext>('a QR payment', (c, input, status) =>
    input.text('simulator')
      ? playedDelivery(c, input, status)
      : {
          delivery: c.fixtures.webhook({
            transactionId: c.transactionId,
            amount: c.amount,
            status,
          }),
        },
  ),
});
