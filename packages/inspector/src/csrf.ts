import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * CSRF tokens without a session table: `<expiry ms>.<HMAC(secret, user name, expiry)>`. A page
 * served to a user carries the token in its forms; a cross-site form cannot read it, so it cannot
 * send it. The expiry is inside the MAC, so a token cannot be extended by editing it, and a token
 * that leaked (a screenshot, a log) stops working. The secret is per inspector (random unless the
 * merchant gives one, e.g. to share it across processes).
 */
export type CsrfVerdict = 'ok' | 'expired' | 'invalid';

export interface CsrfTokens {
  /** How long a token is accepted after it was issued, in ms. */
  readonly ttlMs: number;
  issue(user: string): string;
  check(user: string, token: unknown): CsrfVerdict;
}

export const DEFAULT_CSRF_TTL_MS = 3_600_000;

export function createCsrfTokens(
  secret: string | Buffer = randomBytes(32),
  options: { ttlMs?: number; now?: () => number } = {},
): CsrfTokens {
  const ttlMs = options.ttlMs ?? DEFAULT_CSRF_TTL_MS;
  const now = options.now ?? Date.now;
  // The user name is length-prefixed so "a" + expiry and "a1" + a shorter one never collide.
  const mac = (user: string, expires: string): string =>
    createHmac('sha256', secret)
      .update(`payhook-inspector:${user.length}:${user}:${expires}`, 'utf8')
      .digest('base64url');
  return {
    ttlMs,
    issue(user) {
      const expires = String(now() + ttlMs);
      return `${expires}.${mac(user, expires)}`;
    },
    check(user, token) {
      if (typeof token !== 'string') return 'invalid';
      const match = /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(token);
      if (!match) return 'invalid';
      const [, expires, given] = match as unknown as [string, string, string];
      const expected = Buffer.from(mac(user, expires), 'utf8');
      // The MAC first: an edited expiry is a forgery, not an expired token.
      if (!timingSafeEqual(Buffer.from(given, 'utf8'), expected)) return 'invalid';
      return Number(expires) > now() ? 'ok' : 'expired';
    },
  };
}
