import { isPaymentError, type PaymentErrorLike } from '../errors';
import type { AnyPaymentProvider, Delivery, HttpReply } from '../provider';
import { notifyListeners } from './listeners';
import type { ErrorContext, HubState, NoticeChannels } from './types';

/** Calls the listeners of a notice channel; a failing one is logged, never thrown to the gateway. */
export function notify<K extends keyof NoticeChannels>(
  state: HubState,
  name: K,
  ...args: NoticeChannels[K]
): void {
  notifyListeners(state.listeners, name, args, (error) =>
    state.logger.error({ err: error, channel: name }, `@payhook/core: a ${name} listener failed`),
  );
}

/** Logs an error (5xx at error level, the rest at warn) and reports it on `error`. */
export function reportError(state: HubState, error: PaymentErrorLike, context: ErrorContext): void {
  const level = error.statusCode >= 500 ? 'error' : 'warn';
  state.logger[level](
    context.retryable === false
      ? { code: error.code, provider: context.provider, retryable: false }
      : { code: error.code, provider: context.provider, eventId: context.event?.id },
    error.message,
  );
  notify(state, 'error', error, context);
}

/** A refused delivery: reported, and answered with the error's status and catalogue body. */
export function reject(
  state: HubState,
  provider: AnyPaymentProvider,
  error: PaymentErrorLike,
  delivery?: Delivery,
): HttpReply {
  reportError(state, error, { provider: provider.id, delivery });
  return errorReply(error);
}

export function errorReply(error: PaymentErrorLike | unknown): HttpReply {
  const known = isPaymentError(error);
  const status = known ? error.statusCode : 500;
  const body = known
    ? ((error as PaymentErrorLike & { toJSON?: () => unknown }).toJSON?.() ?? {
        code: error.code,
        message: error.message,
      })
    : { code: 'ERR_INTERNAL', message: '@payhook/core: internal error' };
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ error: body }),
  };
}
