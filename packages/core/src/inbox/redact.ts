import { ConfigError } from '../errors';

/**
 * Header names whose values are credentials of a caller, never stored by the inbox (the value
 * becomes REDACTED). Signature headers (`x-signature`, `sign`, `x-newpay-signature`...) are NOT
 * among them: a signature is a function of the body, not a secret, and a replay must re-verify the
 * stored bytes against it. A gateway that authenticates with a shared secret in a header (rather
 * than a signature) therefore cannot be replayed from the inbox: its replay fails closed (401).
 * The conventional shared-secret names (`x-callback-token`, `x-webhook-secret`...) are here too,
 * so a plugin that forgets to declare its `secretHeaders` still stores none of them.
 */
export const REDACTED_HEADERS: readonly string[] = Object.freeze([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
  'secretkey',
  'x-callback-token',
  'x-webhook-secret',
  'x-webhook-token',
  'x-access-token',
  'api-key',
  'apikey',
]);

export const REDACTED = '[redacted]';

const REDACTED_SET: ReadonlySet<string> = new Set(REDACTED_HEADERS);

/**
 * A shallow copy of the headers without undefined values, the values of `names` (lower-case;
 * REDACTED_HEADERS by default) replaced by REDACTED.
 */
export function redactHeaders(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  names: ReadonlySet<string> = REDACTED_SET,
): Record<string, string | readonly string[]> {
  const out: Record<string, string | readonly string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    out[name] = names.has(name.toLowerCase()) ? REDACTED : value;
  }
  return out;
}

// RFC 9110 token characters: anything else could never be a header name Node hands us.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]{1,256}$/;

/**
 * A list of header names to redact, checked (an array of header names) and lower-cased; a
 * ConfigError names `option` otherwise. Used for the hub's `redactHeaders` and by defineProvider
 * for a provider's `secretHeaders`.
 */
export function checkHeaderNames(
  value: unknown,
  option: string,
  error: (option: string, problem: string) => Error = (o, p) => new ConfigError(o, p),
): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value)) throw error(option, 'must be an array of header names');
  const names = value.map((name: unknown) => {
    const lower = typeof name === 'string' ? name.toLowerCase() : '';
    if (!HEADER_NAME.test(lower))
      throw error(option, `holds ${JSON.stringify(name)}, which is not a header name`);
    return lower;
  });
  return Object.freeze([...new Set(names)]);
}

/**
 * Which headers the hub redacts for each provider: core's list, the merchant's `redactHeaders`
 * and the provider's own `secretHeaders`, merged once per provider id. A provider id seen with
 * several provider objects (a rebuilt provider) keeps the union: a list never shrinks while the
 * hub runs, so a secret once declared is never stored later.
 */
export class HeaderRedaction {
  private readonly base: ReadonlySet<string>;
  private readonly byProvider = new Map<string, ReadonlySet<string>>();

  constructor(merchant: readonly string[]) {
    this.base = merchant.length === 0 ? REDACTED_SET : new Set([...REDACTED_HEADERS, ...merchant]);
  }

  /**
   * The names to redact in an entry of `provider`: asked by every record of a delivery, so each
   * provider object the hub records is noted before its entry is built.
   */
  namesFor(provider: { id: string; secretHeaders?: readonly string[] }): ReadonlySet<string> {
    const known = this.byProvider.get(provider.id);
    const declared = provider.secretHeaders;
    if (!declared || declared.length === 0) return known ?? this.base;
    if (known && declared.every((name) => known.has(name.toLowerCase()))) return known;
    const merged = new Set(known ?? this.base);
    for (const name of declared) merged.add(name.toLowerCase());
    this.byProvider.set(provider.id, merged);
    return merged;
  }
}
