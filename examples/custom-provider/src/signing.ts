import { hmacSha256Hex } from '@payhook/core/plugin';
import type { AcmePayload } from './schema';

/**
 * Acme's side of the wire, for tests: the body bytes and the headers Acme sends. A string is
 * signed as it is (to build malformed deliveries that are still correctly signed).
 */
export function signAcme(
  payload: Partial<AcmePayload> | string,
  secret: string,
): { body: string; headers: Record<string, string> } {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-acme-signature': hmacSha256Hex(secret, body),
    },
  };
}
