import {
  parseJson,
  SignatureError,
  verified,
  type Delivery,
  type VerifiedPayload,
} from '@payhook/core/plugin';
import { SOURCE, type CashyPayinWebhook } from './schema';
import { verifyCashySign } from './signing';

/** Who the webhook must come from: the configured merchant, signed with one of its apiKeys. */
export interface WebhookVerifierConfig {
  merchantId: string;
  apiKeys: readonly string[];
}

/**
 * A Cashy webhook is genuine when its `Sign` header is `MD5(raw body + apiKey)` for one of the
 * configured keys and both the `MerchantId` header and any body `merchantId` name this merchant
 * (one Cashy integration may serve several merchants: a valid sign alone does not bind it).
 */
export function verifyWebhook(
  delivery: Delivery,
  config: WebhookVerifierConfig,
): VerifiedPayload<CashyPayinWebhook> {
  const sign = header(delivery, 'sign');
  const sender = header(delivery, 'merchantid');
  if (!sign || !sender) {
    const missing = [!sender && 'MerchantId', !sign && 'Sign'].filter(Boolean).join(' and ');
    throw new SignatureError(`the ${missing} header is missing`, {
      code: 'ERR_SIGNATURE_MISSING',
      source: SOURCE,
    });
  }
  if (sender !== config.merchantId) throw senderUnknown('the MerchantId header');
  const keyIndex = config.apiKeys.findIndex((apiKey) =>
    verifyCashySign(delivery.body, sign, apiKey),
  );
  if (keyIndex < 0)
    throw new SignatureError('the Sign header does not match MD5(raw body + apiKey)', {
      source: SOURCE,
    });
  const raw = parseJson(delivery.body, { numbers: 'text', source: SOURCE }) as CashyPayinWebhook;
  const bodyMerchant = (raw as { merchantId?: unknown } | null)?.merchantId;
  if (typeof bodyMerchant === 'string' && bodyMerchant.trim() !== config.merchantId)
    throw senderUnknown('the body merchantId');
  return verified(raw, { keyIndex });
}

function senderUnknown(what: string): SignatureError {
  return new SignatureError(`${what} does not name the configured merchant`, {
    code: 'ERR_SENDER_UNKNOWN',
    source: SOURCE,
  });
}

function header(delivery: Delivery, name: string): string | undefined {
  const value = delivery.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === 'string' && text.trim().length > 0 ? text.trim() : undefined;
}
