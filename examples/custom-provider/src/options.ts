import {
  assertTimeZone,
  checkRequiredText,
  ProviderConfigError,
  type WebhookMiddlewareOptions,
} from '@payhook/core/plugin';
import { SOURCE } from './schema';

export interface AcmeOptions {
  /** The webhook secret; during a rotation, a list (old and new), tried in that order. */
  secret: string | readonly string[];
  /** IANA zone of `created_at` (default Asia/Manila). */
  timeZone?: string;
}

/** The provider's options plus the adapter's (`limit`, `onResult`). */
export interface AcmeMiddlewareOptions extends AcmeOptions, WebhookMiddlewareOptions {}

/** Checked at construction: a missing key fails at boot, not at the first payment. */
export function readAcmeOptions(options: AcmeOptions): { secrets: string[]; timeZone: string } {
  const given = options?.secret;
  const list: readonly unknown[] = Array.isArray(given) ? given : [given];
  if (list.length === 0)
    throw new ProviderConfigError('secret', 'must hold at least one secret', { source: SOURCE });
  const secrets = list.map((secret, i) =>
    checkRequiredText(
      secret,
      Array.isArray(given) ? `secret[${i}]` : 'secret',
      'your Acme webhook secret',
      SOURCE,
    ),
  );
  const timeZone = assertTimeZone(options.timeZone ?? 'Asia/Manila', 'timeZone', SOURCE);
  return { secrets, timeZone };
}
