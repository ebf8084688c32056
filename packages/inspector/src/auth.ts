import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Who is looking, as the merchant's guard or the basic-auth check decided. */
export interface InspectorUser {
  name: string;
  /** May replay deliveries and retry dead letters (never in read-only mode). */
  write: boolean;
}

/** One HTTP basic-auth login. */
export interface BasicAuthUser {
  username: string;
  password: string;
  /** May replay and retry (default false: a login reads only unless it says so). */
  write?: boolean;
}

/**
 * The merchant's own check (a session, an SSO header...): return the user, or null to refuse.
 * It runs on every request of the inspector, before anything is read.
 */
export type InspectorGuard = (
  req: IncomingMessage,
) => InspectorUser | null | undefined | false | Promise<InspectorUser | null | undefined | false>;

export type InspectorAuth = { guard: InspectorGuard } | { basic: readonly BasicAuthUser[] };

/** What a request came to: the user, or why it is refused (the browser is asked to log in). */
export type AuthDecision = { user: InspectorUser } | { refused: 'missing' | 'wrong' };

// A digest of each side makes both 32 bytes, so timingSafeEqual never sees two lengths and the
// comparison takes the same time whatever the length of the guess.
const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** Parses `Authorization: Basic …`; undefined when absent or not basic. */
export function parseBasic(header: string | undefined): { user: string; pass: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const text = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), pass: text.slice(colon + 1) };
}

/**
 * Checks every configured login, all of them every time, so that neither the user name nor the
 * password's correctness shows in the time taken.
 */
export function checkBasic(
  users: readonly BasicAuthUser[],
  header: string | undefined,
): AuthDecision {
  const given = parseBasic(header);
  if (!given) return { refused: 'missing' };
  let found: BasicAuthUser | undefined;
  for (const candidate of users) {
    const nameOk = sameSecret(candidate.username, given.user);
    const passOk = sameSecret(candidate.password, given.pass);
    if (nameOk && passOk && !found) found = candidate;
  }
  return found
    ? { user: { name: found.username, write: found.write === true } }
    : { refused: 'wrong' };
}

export async function authenticate(
  auth: InspectorAuth,
  req: IncomingMessage,
): Promise<AuthDecision> {
  if ('basic' in auth) return checkBasic(auth.basic, req.headers.authorization);
  const user = await auth.guard(req);
  if (!user) return { refused: 'missing' };
  return { user: { name: String(user.name), write: user.write === true } };
}
