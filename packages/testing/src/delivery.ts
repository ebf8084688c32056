import { createHash } from 'node:crypto';
import { type HttpReply } from '@payhook/core';
import { instantToIso } from '@payhook/core/plugin';
import { flipLastDigit } from '@payhook/core/testing';

export type GatewayName = 'newpay' | 'cashy' | 'signed-param' | 'lailaolab';

/**
 * One delivery exactly as the gateway puts it on the wire, plus what the gateway counts as "the
 * merchant got it". `{ body, headers }` is also core's DeliveryFixture, so a GatewayDelivery works
 * with runProviderConformance and postDelivery as it is.
 */
export interface GatewayDelivery<G extends string = GatewayName> {
  /** The gateway's name: one of this package's, or a plugin's own (see defineSendGateway). */
  gateway: G;
  /** One line for logs: what this delivery says. */
  description: string;
  /** The body bytes, as text (every gateway here sends UTF-8 JSON). */
  body: string;
  /** Every header the gateway sets, content-type included. */
  headers: Record<string, string>;
  /** The answer that stops the gateway's retries (from the plugin's own provider). */
  successAck: { status: number; body: string };
}

/** What the gateway sees after posting a delivery. */
export interface DeliveryView<G extends string = GatewayName> {
  gateway: G;
  url: string;
  status: number;
  contentType: string | null;
  body: string;
  /** The answer was the gateway's success body: it stops retrying. Anything else, it retries. */
  acknowledged: boolean;
}

export function successAckOf(reply: HttpReply): { status: number; body: string } {
  return { status: reply.status, body: reply.body };
}

/** Would the gateway take this answer as success? Its status and body, byte for byte. */
export function isAcknowledged(
  delivery: Pick<GatewayDelivery, 'successAck'>,
  answer: { status: number; body?: string; text?: string },
): boolean {
  const body = answer.text ?? answer.body ?? '';
  return answer.status === delivery.successAck.status && body === delivery.successAck.body;
}

/** POSTs a delivery as the gateway would and reports the gateway-side view. */
export async function postFixture<G extends string = GatewayName>(
  url: string,
  delivery: GatewayDelivery<G>,
  options: { timeoutMs?: number } = {},
): Promise<DeliveryView<G>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: delivery.headers,
    body: delivery.body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const body = await response.text();
  return {
    gateway: delivery.gateway,
    url,
    status: response.status,
    contentType: response.headers.get('content-type'),
    body,
    acknowledged: isAcknowledged(delivery, { status: response.status, body }),
  };
}

/** What sendFixture needs of a request builder: supertest's `Test` fits. */
export interface RequestLike<T> {
  set(headers: Record<string, string>): T;
  send(body: string): T;
}

/** `sendFixture(request(app).post('/webhooks/newpay'), delivery)`: headers and exact body bytes. */
export function sendFixture<T extends RequestLike<T>>(
  test: T,
  delivery: GatewayDelivery<string>,
): T {
  return test.set(delivery.headers).send(delivery.body);
}

/**
 * The delivery with one digit of its body changed and its signature kept: what an attacker who
 * edits an amount produces. Every signed gateway must refuse it with 401.
 */
export function forgeDelivery<G extends string = GatewayName>(
  delivery: GatewayDelivery<G>,
): GatewayDelivery<G> {
  const forged = flipLastDigit(delivery);
  return {
    ...delivery,
    body: String(forged.body),
    description: `${delivery.description} (forged: body changed after signing)`,
  };
}

/** `yyyy-MM-dd HH:mm:ss` wall time in `timeZone`, the format most of these gateways write. */
export function gatewayWallTime(date: Date, timeZone: string): string {
  return instantToIso(Math.floor(date.getTime() / 1000) * 1000, timeZone)
    .slice(0, 19)
    .replace('T', ' ');
}

/**
 * Gateway-looking reference digits derived from a seed: the same order gives the same gateway
 * number, so building a delivery twice yields a redelivery of the same fact (as a retry is).
 */
export function derivedDigits(seed: string, length: number): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  const digits = BigInt(`0x${hex}`).toString().slice(0, length);
  return `${(Number(digits[0]) % 9) + 1}${digits.slice(1)}`;
}
