import { defineProvider, type PaymentProvider } from '@payhook/core/plugin';
import { confirmNotice } from './confirm';
import { fromRecord } from './normalize';
import { readNusaOptions, type NusaOptions } from './options';
import { NUSA_SOURCE, noticeSchema, type NusaConfirmation, type NusaNotice } from './schema';
import { createNusaStatusQuery } from './status-query';
import { verifyNusa } from './verify';

export function createNusaProvider(
  options: NusaOptions,
): PaymentProvider<NusaNotice, NusaConfirmation> {
  const settings = readNusaOptions(options);
  const statusQuery = createNusaStatusQuery(settings);
  return defineProvider<NusaNotice, NusaConfirmation>({
    id: 'nusa',
    source: NUSA_SOURCE,
    schema: noticeSchema,
    maxAgeMs: settings.limits.maxAgeMs,
    // Each key's mode: a sandbox key's notice is a test payment, an event with `mode: 'test'` and
    // an id of its own. A live mount lists a sandbox key only with allowTestMode: defineProvider
    // refuses the options at boot otherwise, rather than every delivery of that key.
    mode: options.mode,
    allowTestMode: options.allowTestMode,
    keyModes: settings.keyModes,
    verify: (delivery) => verifyNusa(delivery, settings.serverKeys),
    // verify always names its key; 0 only if a future verify did not.
    confirm: (notice, { keyIndex }) =>
      confirmNotice(notice, keyIndex ?? 0, statusQuery, settings.limits),
    normalize: (_notice, { confirmation }) => fromRecord(confirmation),
    ack: { ok: { body: { received: true } }, retry: { status: 503, body: { received: false } } },
  });
}
