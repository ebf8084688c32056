import {
  assertTimeZone,
  decimalEquals,
  defineProvider,
  ProviderConfigError,
  SignatureError,
  StatusMismatchError,
  type Delivery,
  type PaymentProvider,
  type ReplyInit,
} from '@payhook/core';
import {
  classifyMessage,
  decodeMessage,
  DEFAULT_TIME_ZONE,
  kipAmount,
  messageSchema,
  normalizeMessage,
  normalizeStatus,
  PROVIDER_ID,
  SOURCE,
  statusIsPaid,
  statusResponseSchema,
  type MessageOutcome,
} from './normalize';
import { checkKey, createLailaolabStatusClient, type LailaolabStatusClient } from './status-client';
import type {
  LailaolabMessage,
  LailaolabPayload,
  LailaolabStatusData,
  LailaolabStatusResponse,
} from './types';

export interface LailaolabProviderOptions {
  /** The secret key from the PhaJay portal: `?key=` and `join::<key>` on the socket. */
  secretKey: string;
  /** Key for the status API's Basic auth, when it differs from `secretKey`. */
  apiKey?: string;
  /** Status API host (default https://payment-gateway.lailaolab.com). */
  apiBase?: string;
  /** IANA zone of `txnDateTime` (default Asia/Vientiane). */
  timeZone?: string;
  /**
   * Confirm every socket payment outcome through the status API before emitting it (default
   * false). Webhook deliveries are always confirmed: they carry no signature.
   */
  confirmByStatusQuery?: boolean;
  /** Timeout of one status API call (default 10,000 ms). */
  statusTimeoutMs?: number;
}

/**
 * Lailaolab documents only "return with status 200 for success"
 * (https://payment-doc.lailaolab.com/v1/connect-subscription/debit-subscription); nothing is said of
 * retries.
 */
export const LAILAOLAB_ACK: { ok: ReplyInit; retry: ReplyInit } = {
  ok: { status: 200, body: 'OK' },
  retry: { status: 500, body: 'RETRY' },
};

export interface ResolvedOptions {
  secretKey: string;
  timeZone: string;
  confirmByStatusQuery: boolean;
  client: LailaolabStatusClient;
}

export function resolveProviderOptions(options: LailaolabProviderOptions): ResolvedOptions {
  if (!options || typeof options !== 'object')
    throw new ProviderConfigError('options', 'must be an object with secretKey', {
      source: SOURCE,
    });
  const secretKey = checkKey(options.secretKey, 'secretKey');
  const apiKey = options.apiKey === undefined ? secretKey : checkKey(options.apiKey, 'apiKey');
  const timeZone = assertTimeZone(options.timeZone ?? DEFAULT_TIME_ZONE, 'timeZone', SOURCE);
  if (
    options.confirmByStatusQuery !== undefined &&
    typeof options.confirmByStatusQuery !== 'boolean'
  )
    throw new ProviderConfigError('confirmByStatusQuery', 'must be true or false', {
      source: SOURCE,
    });
  const client = createLailaolabStatusClient({
    apiKey,
    apiBase: options.apiBase,
    timeoutMs: options.statusTimeoutMs,
  });
  return {
    secretKey,
    timeZone,
    confirmByStatusQuery: options.confirmByStatusQuery ?? false,
    client,
  };
}

/** A delivery whose transport already decoded it (socket.io): `message` set, no body bytes. */
export function isDecodedDelivery(delivery: Delivery): boolean {
  return delivery.message !== undefined && delivery.body.length === 0;
}

const mismatch = (problem: string): StatusMismatchError =>
  new StatusMismatchError(`${problem}; no payment event is emitted`, SOURCE);

/** Checks a message against the status API's record; throws StatusMismatchError when they disagree. */
async function confirmMessage(
  client: LailaolabStatusClient,
  raw: LailaolabMessage,
  outcome: Exclude<MessageOutcome, 'other'>,
): Promise<LailaolabStatusData> {
  const transactionId = raw.transactionId!;
  const result = await client.check(transactionId);
  if (!result.found) throw mismatch(`the status API does not know transaction ${transactionId}`);
  const data = result.data;
  if (outcome === 'completed') {
    if (!statusIsPaid(data))
      throw mismatch(
        `transaction ${transactionId} is PAYMENT_COMPLETED in the message but ${data.status}${data.isPaid === false ? ' (isPaid false)' : ''} at the status API`,
      );
    const claimed = kipAmount(raw.txnAmount, 'txnAmount');
    const actual = data.amount === undefined ? undefined : kipAmount(data.amount, 'amount');
    if (actual === undefined || !decimalEquals(claimed, actual))
      throw mismatch(
        `transaction ${transactionId} carries ${claimed} in the message but ${actual ?? 'no amount'} at the status API`,
      );
    const currency = raw.sourceCurrency;
    if (
      typeof currency === 'string' &&
      currency.length > 0 &&
      typeof data.currency === 'string' &&
      data.currency.length > 0 &&
      currency !== data.currency
    )
      throw mismatch(
        `transaction ${transactionId} is in ${currency} in the message but ${data.currency} at the status API`,
      );
  } else if (statusIsPaid(data)) {
    throw mismatch(
      `transaction ${transactionId} is FAILED in the message but PAYMENT_COMPLETED at the status API`,
    );
  }
  return data;
}

/**
 * The Lailaolab (PhaJay) provider. Socket deliveries (`transport: 'socket'`, empty body, decoded
 * `message`) are authentic by the secret channel; webhook deliveries (JSON body) carry no
 * signature, so every payment outcome is confirmed through the status API first.
 */
export function createLailaolabProvider(
  options: LailaolabProviderOptions,
): PaymentProvider<LailaolabPayload> {
  const resolved = resolveProviderOptions(options);
  return buildMessageProvider(resolved);
}

export function buildMessageProvider(resolved: ResolvedOptions): PaymentProvider<LailaolabPayload> {
  const { client, timeZone } = resolved;
  // What verify learnt from the status API, for normalize (same raw object, same delivery).
  const confirmations = new WeakMap<object, LailaolabStatusData>();
  const provider: PaymentProvider<LailaolabPayload> = defineProvider<LailaolabPayload>({
    id: PROVIDER_ID,
    source: SOURCE,
    schema: messageSchema,
    verification: 'secret-channel',
    async verify(delivery) {
      const decoded = isDecodedDelivery(delivery);
      const raw = decodeMessage(
        decoded ? delivery.message : delivery.body,
        decoded ? 'socket message' : 'webhook body',
      ) as LailaolabMessage;
      // Invalid payloads go back to the hub, which answers 400 with the fields: no status query
      // is spent on them.
      if (provider.validate(raw)) return raw;
      const outcome = classifyMessage(raw);
      if (outcome !== 'other' && (!decoded || resolved.confirmByStatusQuery))
        confirmations.set(raw, await confirmMessage(client, raw, outcome));
      return raw;
    },
    normalize(raw, { delivery }) {
      return normalizeMessage(raw as LailaolabMessage, {
        timeZone,
        receivedAt: delivery.receivedAt,
        channel: isDecodedDelivery(delivery) ? 'socket' : 'webhook',
        confirmation: confirmations.get(raw),
      });
    },
    ack: LAILAOLAB_ACK,
    async fetchStatus(transactionId) {
      const result = await client.check(transactionId);
      if (!result.found) return null;
      const drafts = normalizeStatus(result.response, { timeZone, receivedAt: new Date() });
      return Array.isArray(drafts) ? drafts.map((d) => ({ ...d, raw: result.response })) : drafts;
    },
  });
  return provider;
}

/** Transport name of deliveries made by the source's status sweep. */
export const STATUS_TRANSPORT = 'status-query';

/**
 * The provider behind the status sweep: same id as the message provider, so a payment found by
 * the sweep and the same payment on the socket share one idempotency key and are emitted once.
 */
export function buildStatusProvider(resolved: ResolvedOptions): PaymentProvider<LailaolabPayload> {
  return defineProvider<LailaolabPayload>({
    id: PROVIDER_ID,
    source: SOURCE,
    schema: statusResponseSchema,
    verification: 'status-query',
    verify(delivery) {
      // Only the source's own sweep builds these; nothing from the network can reach here.
      if (delivery.transport !== STATUS_TRANSPORT || !isDecodedDelivery(delivery))
        throw new SignatureError('status answers are only accepted from the status sweep', {
          source: SOURCE,
        });
      return decodeMessage(delivery.message, 'status answer') as unknown as LailaolabStatusResponse;
    },
    normalize(raw, { delivery }) {
      return normalizeStatus(raw as LailaolabStatusResponse, {
        timeZone: resolved.timeZone,
        receivedAt: delivery.receivedAt,
      });
    },
    ack: LAILAOLAB_ACK,
  });
}
