import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { ProviderConfigError } from '@payhook/core';
import { jsonNumber } from '@payhook/core/plugin';
import { createNewpayProvider } from '../src';
import { signV1Callback, signV2Callback } from '../src/signing';
import { ACK_OK, expectRefused, harness, providerOptions, v1Payment, v2Payment } from './helpers';

/**
 * Item 12: NewPay rotates its platform key. `platformPublicKey` takes the old and the new key,
 * tried in order, and the event says which one matched (`keyIndex`).
 */

const pair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const oldKey = pair();
const newKey = pair();
const thirdKey = pair();
const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }) as string;
const der = (key: KeyObject) =>
  (key.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
const rotation = () =>
  providerOptions({ platformPublicKey: [spki(oldKey.publicKey), der(newKey.publicKey)] });
const now = () => jsonNumber(String(Date.now() - 1_000));
const v1 = (key: KeyObject) => signV1Callback(v1Payment({ timestamp: now() }), key).body;

describe('platformPublicKey as [old, new]', () => {
  it('a callback signed with the old key verifies: keyIndex 0', async () => {
    const h = harness(rotation());
    expect((await h.post(v1(oldKey.privateKey))).text).toBe(ACK_OK);
    expect(h.events).toHaveLength(1);
    expect(h.events[0]!.keyIndex).toBe(0);
  });

  it('a callback signed with the new key verifies: keyIndex 1', async () => {
    const h = harness(rotation());
    expect((await h.post(v1(newKey.privateKey))).text).toBe(ACK_OK);
    expect(h.events[0]!.keyIndex).toBe(1);
  });

  it('v2 callbacks say which key matched too', async () => {
    const h = harness(rotation());
    const body = signV2Callback(v2Payment({ paytime: now() }), newKey.privateKey, {
      timestamp: now(),
    }).body;
    expect((await h.post(body)).text).toBe(ACK_OK);
    expect(h.events[0]!.keyIndex).toBe(1);
  });

  it('a callback signed with a third key is 401 and changes nothing', async () => {
    const h = harness(rotation());
    await expectRefused(h, v1(thirdKey.privateKey), 401, 'ERR_SIGNATURE_INVALID');
  });

  it('a single key works as before, and its events carry no keyIndex', async () => {
    const h = harness(providerOptions({ platformPublicKey: spki(oldKey.publicKey) }));
    expect((await h.post(v1(oldKey.privateKey))).text).toBe(ACK_OK);
    expect(h.events[0]!.keyIndex).toBeUndefined();
    await expectRefused(
      harness(providerOptions({ platformPublicKey: spki(oldKey.publicKey) })),
      v1(newKey.privateKey),
      401,
      'ERR_SIGNATURE_INVALID',
    );
  });

  it('an empty list or an unusable entry is a ProviderConfigError naming it', () => {
    const optionOf = (platformPublicKey: unknown): string | undefined => {
      try {
        createNewpayProvider(providerOptions({ platformPublicKey: platformPublicKey as string }));
      } catch (error) {
        expect(error).toBeInstanceOf(ProviderConfigError);
        return (error as ProviderConfigError).option;
      }
      return undefined;
    };
    expect(optionOf([])).toBe('platformPublicKey');
    expect(optionOf([spki(oldKey.publicKey), 'not a key'])).toBe('platformPublicKey[1]');
  });
});
