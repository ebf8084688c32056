import type { Delivery } from '../../src/plugin';
import { signedDelivery, TEST_SECRET, type TestPayload } from '../../src/testing';

/**
 * A test-gateway delivery as an HTTP transport hands it to `hub.receive`: signed with `secret` (a
 * live or a sandbox key), its time now, so no maximum age refuses it.
 */
export function testDelivery(payload: Partial<TestPayload>, secret = TEST_SECRET): Delivery {
  const signed = signedDelivery({ at: new Date().toISOString(), ...payload }, secret);
  return {
    body: Buffer.from(signed.body),
    headers: { 'content-type': 'application/json', ...signed.headers },
    transport: 'http',
    receivedAt: new Date(),
  };
}
