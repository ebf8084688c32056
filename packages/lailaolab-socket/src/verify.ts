import {
  assertSafeJson,
  checkSignedTime,
  decimalEquals,
  GatewayApiError,
  OUTCOME_EVENTS,
  parseJson,
  PayloadError,
  StaleDeliveryError,
  StatusMismatchError,
  type ConfirmContext,
  type Delivery,
} from '@payhook/core/plugin';
import {
  classifyMessage,
  kipAmount,
  recordCurrency,
  recordIsFinal,
  recordOutcome,
  recordTimeMs,
  type LailaolabConfirmation,
} from './normalize';
import type { ResolvedOptions } from './options';
import {
  SOURCE,
  type LailaolabMessage,
  type LailaolabPayload,
  type LailaolabStatusData,
} from './schema';
import type { LailaolabStatusClient } from './status-query';
import type { StatusLookup } from './confirm';

/*
 * Lailaolab signs nothing. A socket message is authentic by the secrecy of its channel; a webhook
 * (anyone can POST it) only by the status API's record of the transaction it names. So `verify`
 * only decodes, and `confirm` asks the status API and checks the delivery against its answer.
 */

/**
 * A socket message as socket.io decoded it. A JSON text (some servers emit strings) goes through
 * the lossless parser; an object is checked as parseJson would have checked it.
 */
export function decodeMessage(message: unknown, what = 'socket message'): Record<string, unknown> {
  let value = message;
  if (typeof value === 'string' || Buffer.isBuffer(value))
    value = parseJson(value, { numbers: 'text', source: SOURCE, what });
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new PayloadError(`${what} is not a JSON object`, {
      code: 'ERR_PAYLOAD_MALFORMED',
      source: SOURCE,
    });
  // socket.io already ran JSON.parse, so parseJson's refusals are applied to the decoded tree.
  assertSafeJson(value, { source: SOURCE, what });
  return value as Record<string, unknown>;
}

/** A delivery whose transport already decoded it (socket.io): `message` set, no body bytes. */
export function isDecodedDelivery(delivery: Delivery): boolean {
  return delivery.message !== undefined && delivery.body.length === 0;
}

/** The provider's `verify`: the socket's decoded message or the webhook's body, as an object. */
export function decodeDelivery(delivery: Delivery): LailaolabMessage {
  const decoded = isDecodedDelivery(delivery);
  return decodeMessage(
    decoded ? delivery.message : delivery.body,
    decoded ? 'socket message' : 'webhook body',
  ) as LailaolabMessage;
}

/**
 * The status API contradicts the delivery (or knows no such transaction). The message says what
 * differs, for the merchant's log and `error` listeners; the HTTP answer does not, so an
 * unauthenticated caller cannot read a transaction's real amount or status from the refusal.
 */
export class LailaolabMismatchError extends StatusMismatchError {
  constructor(problem: string) {
    super(`${problem}; no payment event is emitted`, SOURCE);
  }
  override toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: `${SOURCE}: the delivery does not match the gateway's record; nothing was emitted`,
    };
  }
}

const mismatch = (problem: string): LailaolabMismatchError => new LailaolabMismatchError(problem);

/** 401 ERR_DELIVERY_STALE; like the mismatch, its answer names neither the transaction nor its time. */
class LailaolabStaleError extends StaleDeliveryError {
  override toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: `${SOURCE}: the payment is older than the maximum age; refused as a possible replay`,
    };
  }
}

/** The record does not back the notice yet: a retryable 5xx, so the payment is asked about again. */
function notYet(id: string, status: string): GatewayApiError {
  return new GatewayApiError(
    `transaction ${id} is ${status} at the status API, not paid yet; the notice is asked for again`,
    { source: SOURCE, retryable: true },
  );
}

/** What the provider's `confirm` step needs: the checked options and the two ways to ask. */
export interface ConfirmConfig {
  resolved: ResolvedOptions;
  /** Fresh answers: the socket's own queries. */
  client: LailaolabStatusClient;
  /** Cached and capped answers: the webhook's. */
  lookup: StatusLookup;
}

/**
 * The provider's `confirm`: asks the status API about every payment outcome of the webhook, and of
 * the socket unless `confirmByStatusQuery: false`; undefined when there is nothing to confirm.
 */
export function createConfirm(config: ConfirmConfig) {
  const { resolved, client, lookup } = config;
  return async (
    payload: LailaolabPayload,
    { delivery }: ConfirmContext,
  ): Promise<LailaolabConfirmation | undefined> => {
    const raw = payload as LailaolabMessage;
    const outcome = classifyMessage(raw);
    // Not a payment outcome: nothing to confirm, and no status query spent on it.
    if (outcome === 'other') return undefined;
    const socket = isDecodedDelivery(delivery);
    // A replayed socket message (hub.replay, the inspector) no longer comes through this mount's
    // channel: the inbox names the provider by id only, and a test and a live mount are both
    // `lailaolab`, so a sandbox channel's message could be replayed through the live mount. Its
    // trust was the channel's, so a replay is always asked about with this mount's key.
    if (socket && !resolved.confirmByStatusQuery && delivery.transport !== 'replay') {
      checkChannelCurrency(raw, resolved.currency);
      return undefined;
    }
    // The webhook is open to anyone: its queries go through the cache and the cap. A socket
    // message comes through the secret channel and gets a query of its own, so that a webhook
    // for the same payment never waits on (or reuses) the socket's answer.
    const id = raw.transactionId!;
    const result = socket ? await client.check(id) : await lookup.check(id);
    // A socket message is authentic (the secret channel) and can beat its record: "not yet" is a
    // retryable answer there, and the source watches the transaction so its sweep asks again.
    // The webhook is anyone's to post: a record that does not back it is a refusal.
    if (!result.found) {
      if (socket) throw notYet(id, 'unknown');
      throw mismatch(`the status API does not know transaction ${id}`);
    }
    return judge(raw, outcome, result.data, resolved, socket);
  };
}

/** The secret channel, trusted: its currency is the configured one, never the message's. */
function checkChannelCurrency(raw: LailaolabMessage, currency: string): void {
  const claimed = raw.sourceCurrency;
  if (typeof claimed === 'string' && claimed.length > 0 && claimed !== currency)
    throw new PayloadError(
      `socket message for transaction ${raw.transactionId} is in ${claimed}, not the configured currency ${currency}; set the currency option, or confirm by status query`,
      { source: SOURCE },
    );
}

/**
 * Checks a message against the status record of the transaction it names. The message only
 * selects the transaction: any field of it the record contradicts (status, amount, currency,
 * order) refuses it, and the event is then built from the record alone.
 */
function judge(
  raw: LailaolabMessage,
  outcome: 'completed' | 'failed',
  data: LailaolabStatusData,
  resolved: ResolvedOptions,
  socket: boolean,
): LailaolabConfirmation {
  checkRecordStatus(raw.transactionId!, outcome, data, socket);
  checkRecordFields(raw, data, resolved.currency);
  if (outcome === 'failed' && recordOutcome(data) !== 'failed')
    return { verdict: 'pending', record: data };
  checkRecordAge(raw.transactionId!, data, resolved);
  return { verdict: 'confirmed', record: data };
}

/** The record's status (recordOutcome: RECORD_STATUS, then isPaid) must back the message's outcome. */
function checkRecordStatus(
  id: string,
  outcome: 'completed' | 'failed',
  data: LailaolabStatusData,
  socket: boolean,
): void {
  const record = recordOutcome(data);
  const isPaid = data.isPaid === false ? ' (isPaid false)' : '';
  if (outcome === 'completed' && record !== 'completed') {
    // A socket notice can beat the record: one not final yet (waiting, disputed, a word or isPaid
    // not understood) is "not yet" (watched, swept again), never a refusal that loses the payment.
    if (socket && !recordIsFinal(record)) throw notYet(id, data.status);
    throw mismatch(
      `transaction ${id} is PAYMENT_COMPLETED in the message but ${data.status}${isPaid} at the status API`,
    );
  }
  // Paid, or paid and then reversed (REFUNDED): the record contradicts the failure.
  const type = record === undefined ? undefined : OUTCOME_EVENTS[record]?.type;
  if (outcome === 'failed' && (type === 'payment.completed' || type === 'payment.refunded'))
    throw mismatch(
      `transaction ${id} is FAILED in the message but ${data.status} at the status API`,
    );
}

/** The message's amount, currency and order, where it states them, must be the record's. */
function checkRecordFields(
  raw: LailaolabMessage,
  data: LailaolabStatusData,
  configuredCurrency: string,
): void {
  const id = raw.transactionId!;
  const claimed = kipAmount(raw.txnAmount, 'txnAmount');
  let actual: string | undefined;
  try {
    actual = data.amount === undefined ? undefined : kipAmount(data.amount, 'amount');
  } catch {
    actual = undefined;
  }
  if (actual === undefined || !decimalEquals(claimed, actual))
    throw mismatch(
      `transaction ${id} carries ${claimed} in the message but ${actual ?? 'no amount'} at the status API`,
    );
  const currency = recordCurrency(data, configuredCurrency);
  const claimedCurrency = raw.sourceCurrency;
  if (
    typeof claimedCurrency === 'string' &&
    claimedCurrency.length > 0 &&
    claimedCurrency !== currency
  )
    throw mismatch(
      `transaction ${id} is in ${claimedCurrency} in the message but ${currency} at the status API${data.currency ? '' : ' (the configured currency: the record states none)'}`,
    );
  const claimedOrder = raw.orderNo;
  const order = data.orderNo;
  if (
    typeof claimedOrder === 'string' &&
    claimedOrder.length > 0 &&
    typeof order === 'string' &&
    order.length > 0 &&
    claimedOrder !== order
  )
    throw mismatch(
      `transaction ${id} names order ${claimedOrder} in the message but ${order} at the status API`,
    );
}

/**
 * The record's time bounds the delivery's age: a paid transaction stays PAYMENT_COMPLETED at the
 * status API forever, so without it a genuine webhook replayed after the store forgot it would
 * credit again.
 */
function checkRecordAge(id: string, data: LailaolabStatusData, resolved: ResolvedOptions): void {
  const at = recordTimeMs(data, resolved.timeZone);
  try {
    checkSignedTime(at ?? Number.NaN, resolved.maxAge, {
      what: `the status record's time of transaction ${id} (paymentTime, else createdAt)`,
    });
  } catch (error) {
    if (!(error instanceof StaleDeliveryError)) throw error;
    // The same verdict, with the detail kept for the log and off the wire.
    throw new LailaolabStaleError(error.message.replace(/^@payhook\/core: /, ''), SOURCE);
  }
}
