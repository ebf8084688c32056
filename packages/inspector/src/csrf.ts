import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * CSRF tokens without a session table: HMAC(secret, user name). A page served to a user carries
 * the token in its forms; a cross-site form cannot read it, so it cannot send it. The secret is
 * per inspector (random unless the merchant gives one, e.g. to share it across processes).
 */
export interface CsrfTokens {
  issue(user: string): string;
  check(user: string, token: unknown): boolean;
}

export function createCsrfTokens(secret: string | Buffer = randomBytes(32)): CsrfTokens {
  const issue = (user: string): string =>
    createHmac('sha256', secret).update(`payhook-inspector:${user}`, 'utf8').digest('base64url');
  return {
    issue,
    check(user, token) {
      if (typeof token !== 'string' || token.length === 0) return false;
      const expected = Buffer.from(issue(user), 'utf8');
      const given = Buffer.from(token, 'utf8');
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
