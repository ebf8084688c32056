/**
 * Header names whose values are credentials of a caller, never stored by the inbox (the value
 * becomes REDACTED). Signature headers (`x-signature`, `sign`, `x-newpay-signature`...) are NOT
 * among them: a signature is a function of the body, not a secret, and a replay must re-verify the
 * stored bytes against it. A gateway that authenticates with a shared secret in a header (rather
 * than a signature) therefore cannot be replayed from the inbox: its replay fails closed (401).
 */
export const REDACTED_HEADERS: readonly string[] = Object.freeze([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
  'secretkey',
]);

export const REDACTED = '[redacted]';

const REDACTED_SET: ReadonlySet<string> = new Set(REDACTED_HEADERS);

/** A shallow copy of the headers without undefined values, credentials replaced by REDACTED. */
export function redactHeaders(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
): Record<string, string | readonly string[]> {
  const out: Record<string, string | readonly string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    out[name] = REDACTED_SET.has(name.toLowerCase()) ? REDACTED : value;
  }
  return out;
}
