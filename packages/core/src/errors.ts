/**
 * One error catalogue. Every error payhook raises has a stable `code` and the HTTP status the
 * Express adapter answers with. Messages start with the package that raised them and never carry a
 * key, a secret or a whole signature.
 */
export const ERROR_CATALOGUE = {
  ERR_SIGNATURE_MISSING: 401,
  ERR_SIGNATURE_INVALID: 401,
  ERR_SENDER_UNKNOWN: 401,
  ERR_PAYLOAD_MALFORMED: 400,
  ERR_PAYLOAD_INVALID: 400,
  ERR_METHOD_NOT_ALLOWED: 405,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_BODY_CONSUMED: 500,
  ERR_CONFIG: 500,
  ERR_PROVIDER_CONFIG: 500,
  ERR_LISTENER_FAILED: 500,
  ERR_LISTENER_TIMEOUT: 500,
  ERR_NORMALIZE_FAILED: 500,
  ERR_STORE_UNAVAILABLE: 503,
  ERR_GATEWAY_API: 502,
  ERR_STATUS_MISMATCH: 409,
  /** A status query the budget for transactions nobody awaits has no room for: not asked, retried. */
  ERR_STATUS_BUDGET: 503,
  ERR_DELIVERY_STALE: 401,
  /**
   * A delivery verified with a test key on a live mount that does not allow test mode, or with a
   * live key on a test mount: authentic, but not this endpoint's money.
   */
  ERR_MODE_MISMATCH: 403,
  ERR_COMMIT_FAILED: 503,
  ERR_INBOX_ENTRY_NOT_FOUND: 404,
  /** A store statement passed its deadline: its connection was destroyed, the gateway retries. */
  ERR_STORE_TIMEOUT: 503,
  /** A listener outlived the hard cap after the handler timeout: its claim was released. */
  ERR_LISTENER_ABANDONED: 500,
  /** A listener ran BEGIN, COMMIT, ROLLBACK… through `tx`: refused, the claim owns its transaction. */
  ERR_TX_CONTROL: 500,
  /** No listener for the event's type (async worker): it stays queued until one is added. */
  ERR_NO_LISTENER: 503,
  /** An event waits behind a dead event of the same payment (async worker). */
  ERR_ORDER_BLOCKED: 409,
  /** An earlier event of the same payment held its lock past the wait's bound (async worker). */
  ERR_ORDER_LOCK_TIMEOUT: 503,
  /** A job's last attempt never finished: its worker stopped or died (async worker). */
  ERR_JOB_EXPIRED: 504,
  /** The awaited-payment list holds `maxEntries` awaiting payments: a new one is refused, none dropped. */
  ERR_AWAITED_FULL: 503,
} as const;

export type PaymentErrorCode = keyof typeof ERROR_CATALOGUE;

export interface FieldProblem {
  /** JSON pointer of the failing field ("" for the whole payload). */
  path: string;
  message: string;
}

/** Field problems as one line for an error message: `/amount must be string; / must have x`. */
export function formatFieldProblems(problems: readonly FieldProblem[]): string {
  return problems.map((p) => `${p.path || '/'} ${p.message}`).join('; ');
}

export interface PaymentErrorOptions {
  code: PaymentErrorCode;
  /** The package that raised it; starts the message. */
  source?: string;
  cause?: unknown;
}

/** Anything payhook reports: PaymentError and ListenerError (an AggregateError) both satisfy it. */
export interface PaymentErrorLike extends Error {
  readonly code: PaymentErrorCode;
  readonly statusCode: number;
}

export class PaymentError extends Error implements PaymentErrorLike {
  readonly code: PaymentErrorCode;
  readonly statusCode: number;
  readonly source: string;

  constructor(message: string, options: PaymentErrorOptions) {
    const source = options.source ?? '@payhook/core';
    super(
      `${source}: ${message}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = new.target.name;
    this.code = options.code;
    this.statusCode = ERROR_CATALOGUE[options.code];
    this.source = source;
  }

  /** The body the adapter sends: code and message, plus fields when there are some. */
  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message };
  }
}

/** 401: the delivery is not provably from the gateway. */
export class SignatureError extends PaymentError {
  constructor(
    message: string,
    options: {
      source?: string;
      code?: 'ERR_SIGNATURE_MISSING' | 'ERR_SIGNATURE_INVALID' | 'ERR_SENDER_UNKNOWN';
      cause?: unknown;
    } = {},
  ) {
    super(message, {
      code: options.code ?? 'ERR_SIGNATURE_INVALID',
      source: options.source,
      cause: options.cause,
    });
  }
}

/**
 * 401: the signed (or confirmed) time of the delivery is older than the provider's maximum age, or
 * further in the future than the clock-skew tolerance. A genuine old delivery replayed after the
 * store forgot it would otherwise be processed again.
 */
export class StaleDeliveryError extends PaymentError {
  constructor(message: string, source?: string) {
    super(message, { code: 'ERR_DELIVERY_STALE', source });
  }
}

/**
 * 403: the delivery is authentic but from the other environment: signed with a test key on a live
 * mount (without `allowTestMode`), or with a live key on a test mount. Nothing is emitted or stored.
 */
export class ModeMismatchError extends PaymentError {
  readonly mode: 'live' | 'test';
  readonly mountMode: 'live' | 'test';
  constructor(mode: 'live' | 'test', mountMode: 'live' | 'test', source?: string) {
    super(
      mode === 'test'
        ? 'a test-mode delivery (verified with a test key) reached a live mount: refused; set allowTestMode: true to accept test deliveries here as test-mode events'
        : 'a live delivery (verified with a live key) reached a test mount: refused; live payments belong on a live mount',
      { code: 'ERR_MODE_MISMATCH', source },
    );
    this.mode = mode;
    this.mountMode = mountMode;
  }
}

/** 400: the delivery is authentic (or could not be checked) but its payload is unusable. */
export class PayloadError extends PaymentError {
  readonly fields: FieldProblem[];
  constructor(
    message: string,
    options: {
      source?: string;
      code?: 'ERR_PAYLOAD_MALFORMED' | 'ERR_PAYLOAD_INVALID';
      fields?: FieldProblem[];
      cause?: unknown;
    } = {},
  ) {
    super(message, {
      code: options.code ?? 'ERR_PAYLOAD_INVALID',
      source: options.source,
      cause: options.cause,
    });
    this.fields = options.fields ?? [];
  }
  override toJSON(): Record<string, unknown> {
    return this.fields.length > 0 ? { ...super.toJSON(), fields: this.fields } : super.toJSON();
  }
}

export class PayloadTooLargeError extends PaymentError {
  constructor(
    readonly limit: number,
    source?: string,
  ) {
    super(`request body is larger than the ${limit}-byte limit`, {
      code: 'ERR_PAYLOAD_TOO_LARGE',
      source,
    });
  }
}

export class UnsupportedMediaTypeError extends PaymentError {
  constructor(received: string, expected: readonly string[], source?: string) {
    super(`content type "${received}" is not accepted; send ${expected.join(' or ')}`, {
      code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
      source,
    });
  }
}

export class MethodNotAllowedError extends PaymentError {
  constructor(method: string, source?: string) {
    super(`method ${method} is not allowed; gateways deliver with POST`, {
      code: 'ERR_METHOD_NOT_ALLOWED',
      source,
    });
  }
}

/** 500: a body parser ran before payhook and left no raw bytes to verify. */
export class BodyConsumedError extends PaymentError {
  constructor(source?: string) {
    super(
      'the request body was already consumed by a body parser mounted before this middleware, and no raw bytes were kept. ' +
        'Mount the payhook middleware before express.json()/express.urlencoded(), or keep the bytes with ' +
        'express.json({ verify: keepRawBody }) (keepRawBody from @payhook/core) or express.raw({ type: "*/*" }) on this route',
      { code: 'ERR_BODY_CONSUMED', source },
    );
  }
}

/** A bad option, found at construction time rather than at the first payment. */
export class ConfigError extends PaymentError {
  readonly option: string;
  constructor(
    option: string,
    problem: string,
    options: { source?: string; code?: 'ERR_CONFIG' | 'ERR_PROVIDER_CONFIG'; cause?: unknown } = {},
  ) {
    super(`option "${option}" ${problem}`, {
      code: options.code ?? 'ERR_CONFIG',
      source: options.source,
      cause: options.cause,
    });
    this.option = option;
  }
}

export class ProviderConfigError extends ConfigError {
  constructor(option: string, problem: string, options: { source?: string; cause?: unknown } = {}) {
    super(option, problem, { ...options, code: 'ERR_PROVIDER_CONFIG' });
  }
}

export class ListenerTimeoutError extends PaymentError {
  constructor(
    readonly timeoutMs: number,
    eventId: string,
  ) {
    super(`listeners for ${eventId} did not settle within ${timeoutMs} ms`, {
      code: 'ERR_LISTENER_TIMEOUT',
    });
  }
}

export class StoreError extends PaymentError {
  constructor(operation: string, cause: unknown, source?: string) {
    super(`idempotency store failed during ${operation}: ${describeCause(cause)}`, {
      // A statement past its deadline keeps its own code, so a dashboard can tell "slow" from "down".
      code:
        (cause as { code?: unknown } | null)?.code === 'ERR_STORE_TIMEOUT'
          ? 'ERR_STORE_TIMEOUT'
          : 'ERR_STORE_UNAVAILABLE',
      source,
      cause,
    });
  }
}

/**
 * A store statement that did not answer within its deadline. Its connection is destroyed (never
 * returned to a pool): a frozen database cannot hold a request past the deadline.
 */
export class StoreTimeoutError extends PaymentError {
  constructor(
    readonly timeoutMs: number,
    what: string,
    source?: string,
  ) {
    super(`${what} did not answer within ${timeoutMs} ms; its connection was destroyed`, {
      code: 'ERR_STORE_TIMEOUT',
      source,
    });
  }
}

/**
 * A listener still running `hardTimeoutMs` after the handler timeout: the hub stops waiting, its
 * claim is released (a transactional store's connection destroyed), and a redelivery processes
 * the event. What the listener does after this is outside the exactly-once guarantee.
 */
export class ListenerAbandonedError extends PaymentError {
  constructor(
    readonly hardTimeoutMs: number,
    eventId: string,
  ) {
    super(
      `listeners for ${eventId} still ran ${hardTimeoutMs} ms after the handler timeout; ` +
        'their claim was released and the event is left to a redelivery',
      { code: 'ERR_LISTENER_ABANDONED' },
    );
  }
}

/**
 * `expectPayment` refused: the list already holds `maxEntries` awaiting payments. Nothing awaited
 * is dropped to make room (that payment could then be lost); settle or cancel orders, or raise it.
 */
export class AwaitedListFullError extends PaymentError {
  constructor(maxEntries: number, source?: string) {
    super(
      `the awaited-payment list holds ${maxEntries} awaiting payments (maxEntries): not added`,
      {
        code: 'ERR_AWAITED_FULL',
        source,
      },
    );
  }
}

/** A gateway API answered with an error (or not at all). `retryable` says whether trying later can help. */
export class GatewayApiError extends PaymentError {
  readonly gatewayCode: string | undefined;
  readonly gatewayMessage: string | undefined;
  readonly retryable: boolean;
  readonly httpStatus: number | undefined;
  constructor(
    message: string,
    options: {
      source?: string;
      gatewayCode?: string;
      gatewayMessage?: string;
      retryable?: boolean;
      httpStatus?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, { code: 'ERR_GATEWAY_API', source: options.source, cause: options.cause });
    this.gatewayCode = options.gatewayCode;
    this.gatewayMessage = options.gatewayMessage;
    // Unknown means transient: a plugin says `retryable: false` when a change is needed first
    // (credentials, a base URL), and only then is it reported as such.
    this.retryable = options.retryable ?? true;
    this.httpStatus = options.httpStatus;
  }
}

/** The gateway's status API contradicts a notification (amount, status or reference differ). */
export class StatusMismatchError extends PaymentError {
  constructor(message: string, source?: string) {
    super(message, { code: 'ERR_STATUS_MISMATCH', source });
  }
}

/**
 * Every listener failure for one event, gathered (octokit-style). It carries the event so that an
 * `error` listener can tell which payment was not handled.
 */
export class ListenerError extends AggregateError implements PaymentErrorLike {
  readonly code = 'ERR_LISTENER_FAILED' as const;
  readonly statusCode = ERROR_CATALOGUE.ERR_LISTENER_FAILED;
  constructor(
    errors: unknown[],
    readonly event: { id: string; type: string },
  ) {
    super(
      errors,
      `@payhook/core: ${errors.length} listener(s) failed for ${event.type} ${event.id}: ${errors.map(describeCause).join('; ')}`,
    );
    this.name = 'ListenerError';
  }
  toJSON(): Record<string, unknown> {
    return { code: this.code, message: 'a listener failed; the gateway will redeliver' };
  }
}

export function isPaymentError(value: unknown): value is PaymentErrorLike {
  return (
    value instanceof Error &&
    typeof (value as Partial<PaymentErrorLike>).code === 'string' &&
    (value as Partial<PaymentErrorLike>).code! in ERROR_CATALOGUE &&
    typeof (value as Partial<PaymentErrorLike>).statusCode === 'number'
  );
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}
