import {
  createGatewayMiddleware,
  defineProvider,
  type GatewayMiddleware,
  type PaymentHub,
  type PaymentProvider,
} from '@payhook/core/plugin';
import { normalizeCharge } from './normalize';
import { readAcmeOptions, type AcmeMiddlewareOptions, type AcmeOptions } from './options';
import { SOURCE, acmeSchema, type AcmePayload } from './schema';
import { verifyAcme } from './verify';

export function createAcmeProvider(options: AcmeOptions): PaymentProvider<AcmePayload> {
  const { secrets, timeZone } = readAcmeOptions(options);
  return defineProvider<AcmePayload>({
    id: 'acme', // prefixes every event id and store key
    source: SOURCE, // starts every error message
    schema: acmeSchema,
    verify: (delivery) => verifyAcme(delivery, secrets),
    normalize: (raw) => normalizeCharge(raw, timeZone),
    ack: { ok: { body: { received: true } }, retry: { status: 500, body: { received: false } } },
  });
}

/** `app.use('/webhooks/acme', createAcmeMiddleware(hub, options))`; `.provider` is its provider. */
export function createAcmeMiddleware(
  hub: PaymentHub,
  options: AcmeMiddlewareOptions,
): GatewayMiddleware<AcmePayload> {
  return createGatewayMiddleware(hub, options, createAcmeProvider);
}
