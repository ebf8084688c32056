import type { ValidateFunction } from 'ajv';
import { paymentEventSchema, type PaymentEvent } from './events';
import { getAjv } from './provider';

let compiled: ValidateFunction | undefined;

/** Checks that a value (e.g. read back from a queue) is a well-formed PaymentEvent. */
export function validatePaymentEvent(value: unknown): value is PaymentEvent {
  compiled ??= getAjv().getSchema(paymentEventSchema.$id) ?? getAjv().compile(paymentEventSchema);
  return compiled(value) as boolean;
}

/** The problems found by the last failed validatePaymentEvent call. */
validatePaymentEvent.errors = (): string[] =>
  (compiled?.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
