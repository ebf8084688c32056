import type { AnyPaymentProvider, Inbox, PaymentHub } from '@payhook/core';
import { optionFailer, type OptionFailer } from '@payhook/core/plugin';
import type { InspectorAuth } from './auth';
import { DEFAULT_CSRF_TTL_MS } from './csrf';
import type { DeadLetterSource } from './dead-letters';

export const SOURCE = '@payhook/inspector';

/** A provider, or what every gateway's createXMiddleware returns (it carries `.provider`). */
export type ProviderLike = AnyPaymentProvider | { readonly provider: AnyPaymentProvider };

export interface InspectorOptions {
  hub: PaymentHub;
  /** Where deliveries are read (default the hub's own inbox). */
  inbox?: Inbox;
  /** Required: there is no open default. A guard of yours, or basic-auth logins. */
  auth: InspectorAuth;
  /**
   * The providers deliveries are replayed through, by id. A function is asked at each replay, so
   * a provider rebuilt with a corrected key replays with it. Also lists the gateway filter.
   */
  providers?: readonly ProviderLike[] | (() => readonly ProviderLike[]);
  /** No replay, no retry, for anyone (default false). */
  readOnly?: boolean;
  /** Dead letters of the async mode, shown with retry buttons when given. */
  deadLetters?: DeadLetterSource;
  /** Deliveries per page (default 50, at most 500). */
  pageSize?: number;
  /** Extra header names shown as [redacted] (the inbox already drops credentials). */
  redactHeaders?: readonly string[];
  /** The CSRF tokens' key (default random per process; give one to share it across processes). */
  csrfSecret?: string;
  /**
   * How long a page's forms stay usable, in ms (default 1 hour, 1 s to 7 days): the expiry is
   * signed into the token, so a leaked token stops working and cannot be extended.
   */
  csrfTtlMs?: number;
}

export interface InspectorSettings {
  hub: PaymentHub;
  inbox: Inbox;
  auth: InspectorAuth;
  providers: () => AnyPaymentProvider[];
  readOnly: boolean;
  deadLetters?: DeadLetterSource;
  pageSize: number;
  redactHeaders: ReadonlySet<string>;
  csrfSecret?: string;
  csrfTtlMs: number;
}

const fail: OptionFailer = optionFailer(SOURCE, { provider: false });

function checkAuth(auth: unknown): InspectorAuth {
  if (!auth || typeof auth !== 'object')
    return fail('auth', 'is required: { guard(req) } or { basic: [{ username, password }] }');
  if ('guard' in auth) {
    if (typeof auth.guard !== 'function') fail('auth.guard', 'must be a function');
    return auth as InspectorAuth;
  }
  if (!('basic' in auth) || !Array.isArray(auth.basic) || auth.basic.length === 0)
    return fail('auth', 'needs a guard function or at least one basic-auth login');
  auth.basic.forEach((user: unknown, i: number) => {
    const u = user as Record<string, unknown> | null;
    if (typeof u?.username !== 'string' || u.username.length === 0 || u.username.includes(':'))
      fail(`auth.basic[${i}].username`, 'must be a non-empty string without ":"');
    if (typeof u?.password !== 'string' || u.password.length < 8)
      fail(`auth.basic[${i}].password`, 'must be a string of at least 8 characters');
  });
  return auth as InspectorAuth;
}

const unwrap = (p: ProviderLike): AnyPaymentProvider =>
  'provider' in p && typeof p.provider === 'object' ? p.provider : (p as AnyPaymentProvider);

/** Checked once, at construction: a bad option throws a ConfigError naming it. */
export function resolveInspectorOptions(options: InspectorOptions): InspectorSettings {
  if (!options || typeof options !== 'object') return fail('options', 'are required');
  const { hub } = options;
  if (!hub || typeof hub.replay !== 'function') fail('hub', 'must be a payhook hub');
  const inbox = options.inbox ?? hub.inbox;
  if (!inbox || typeof inbox.list !== 'function' || typeof inbox.get !== 'function')
    fail('inbox', 'is required: the hub has none (inbox: false); pass the inbox to read');
  const auth = checkAuth(options.auth);
  const given = options.providers ?? [];
  if (typeof given !== 'function' && !Array.isArray(given))
    fail('providers', 'must be an array of providers or middlewares, or a function returning one');
  const providers = (): AnyPaymentProvider[] =>
    (typeof given === 'function' ? given() : given).map(unwrap);
  providers().forEach((p, i) => {
    if (!p || typeof p.id !== 'string') fail(`providers[${i}]`, 'is not a payhook provider');
  });
  const pageSize = options.pageSize ?? 50;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 500)
    fail('pageSize', 'must be a whole number from 1 to 500');
  const dead = options.deadLetters;
  if (dead !== undefined)
    for (const method of ['list', 'retry', 'retryAll'] as const)
      if (typeof dead?.[method] !== 'function') fail(`deadLetters.${method}`, 'must be a function');
  if (
    options.csrfSecret !== undefined &&
    (typeof options.csrfSecret !== 'string' || options.csrfSecret.length < 16)
  )
    fail('csrfSecret', 'must be a string of at least 16 characters');
  const csrfTtlMs = options.csrfTtlMs ?? DEFAULT_CSRF_TTL_MS;
  if (!Number.isSafeInteger(csrfTtlMs) || csrfTtlMs < 1_000 || csrfTtlMs > 7 * 86_400_000)
    fail('csrfTtlMs', 'must be a whole number of milliseconds from 1,000 to 7 days');
  return {
    hub,
    inbox: inbox!,
    auth,
    providers,
    readOnly: options.readOnly === true,
    deadLetters: dead,
    pageSize,
    redactHeaders: new Set((options.redactHeaders ?? []).map((h) => h.toLowerCase())),
    csrfSecret: options.csrfSecret,
    csrfTtlMs,
  };
}
