import { createHash, type KeyObject } from 'node:crypto';
import { pluginState, ProviderConfigError, type PaymentHub } from '@payhook/core/plugin';
import { SOURCE } from './schema';

/*
 * Mounts of one hub that share a platform key. The key is the platform's, one per environment for
 * every merchant, and `param` names no merchant, appId or account (the notification pages list
 * eventName, mchOrderId, transactionId, amount, status, times, channelCode, remark:
 * https://docs.ezpaytechs.com/en/philippines/Payment/Static/CollectionNotification.html), so a
 * notification for one account verifies on every mount with that key. Two such mounts with other
 * provider ids give it two event ids: the order is credited twice. The only account binding the
 * param allows is the merchant's own order number, so such mounts must each have an
 * `orderIdPrefix`, and no prefix may start with another: a payment then passes one mount at most.
 */

/** What the hub-wide check needs of one mount. */
export interface MountRecord {
  id: string;
  /** SHA-256 of each platform key's SubjectPublicKeyInfo DER, hex: what the signature binds. */
  fingerprints: readonly string[];
  orderIdPrefix: string | undefined;
}

export function keyFingerprint(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/**
 * Records a mount on its hub, refusing it (ProviderConfigError on `orderIdPrefix`, at boot) when
 * it shares a key with an earlier mount of another provider id and the two prefixes do not keep
 * their payments apart. Two mounts with the same id give a notification the same event id, so
 * the store already processes it once: they are not refused.
 */
export function registerMount(hub: PaymentHub, mount: MountRecord): void {
  // The hub keeps its own list of our mounts (no side table): made with the hub, gone with it.
  const mounts = pluginState(hub, `${SOURCE}:mounts`, (): MountRecord[] => []);
  for (const other of mounts) {
    if (other.id === mount.id) continue;
    const shared = mount.fingerprints.find((f) => other.fingerprints.includes(f));
    if (shared !== undefined) checkPrefixes(mount, other, shared);
  }
  mounts.push(mount);
}

function checkPrefixes(mount: MountRecord, other: MountRecord, fingerprint: string): void {
  const a = mount.orderIdPrefix;
  const b = other.orderIdPrefix;
  const both = `the "${mount.id}" and "${other.id}" mounts share a platform key (SHA-256 ${fingerprint.slice(0, 16)}…), which signs every account's notifications`;
  if (a === undefined || b === undefined)
    throw new ProviderConfigError(
      'orderIdPrefix',
      `is required on both mounts: ${both}, so without it one notification verifies on both and is credited twice; give each account's mchOrderIds their own prefix`,
      { source: SOURCE },
    );
  if (a.startsWith(b) || b.startsWith(a))
    throw new ProviderConfigError(
      'orderIdPrefix',
      `"${a}" (${mount.id}) and "${b}" (${other.id}) overlap: ${both}, so a mchOrderId starting with the longer one passes both; neither prefix may start with the other`,
      { source: SOURCE },
    );
}
