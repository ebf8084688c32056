import {
  GatewayApiError,
  isRetryableStatus,
  parseJson,
  requestGateway,
} from '@payhook/core/plugin';
import type { NusaSettings } from './options';
import { NUSA_SOURCE, type NusaRecord } from './schema';

/** Nusa's record of an order, asked with one of the server keys; null when Nusa knows none. */
export type NusaStatusQuery = (orderId: string, keyIndex: number) => Promise<NusaRecord | null>;

/**
 * `GET {base URL}/v2/{order_id}/status`, Basic auth with the server key as the user name, as
 * Midtrans's status API. Each environment has its own API and its own keys: the key of index
 * `keyIndex` is asked at the base URL of its mode, so a sandbox notice is confirmed by the sandbox.
 */
export function createNusaStatusQuery(settings: NusaSettings): NusaStatusQuery {
  return async (orderId, keyIndex) => {
    const serverKey = settings.serverKeys[keyIndex]!;
    const base = settings.baseUrls[settings.keyModes[keyIndex]!];
    const response = await requestGateway(`${base}/v2/${encodeURIComponent(orderId)}/status`, {
      headers: { authorization: `Basic ${Buffer.from(`${serverKey}:`).toString('base64')}` },
      timeoutMs: settings.timeoutMs,
      source: NUSA_SOURCE,
    });
    if (response.status === 404) return null;
    if (response.status !== 200)
      throw new GatewayApiError(`status API answered HTTP ${response.status}`, {
        source: NUSA_SOURCE,
        retryable: isRetryableStatus(response.status),
      });
    return parseJson(response.text, { source: NUSA_SOURCE }) as NusaRecord;
  };
}
