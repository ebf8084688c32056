import { createPaymentHub } from '@payhook/core';
import { createNewpayProvider } from '@payhook/newpay-callback';
import { createPayinProvider } from '@payhook/payin';
import { createSignedParamProvider } from '@payhook/signed-param';
import { createGatewayFixtures, startStatusApis, type StatusApiSimulator } from '../src';

/**
 * The status-API simulators answer each plugin's own fetchStatus with the payment they were told
 * was made: the events match the webhook's, by the gateway's reference (and by the merchant's
 * order number where the plugin asks by it), and a payment never made is unknown.
 */
const fixtures = createGatewayFixtures();
let apis: StatusApiSimulator;
beforeAll(async () => {
  apis = await startStatusApis(fixtures);
});
afterAll(() => apis.close());

const providers = () => ({
  newpay: createNewpayProvider({
    ...fixtures.newpay.providerOptions,
    ...apis.providerOptions.newpay,
  }),
  cashy: createPayinProvider({ ...fixtures.cashy.providerOptions, ...apis.providerOptions.cashy }),
  'signed-param': createSignedParamProvider({
    ...fixtures.signedParam.providerOptions,
    ...apis.providerOptions.signedParam,
  }),
});

it.each(['newpay', 'cashy', 'signed-param'] as const)(
  "%s: the status answer is the webhook's payment, by reference; unknown payments are null or refused",
  async (gateway) => {
    const provider = providers()[gateway];
    const made = apis.pay(gateway, { orderId: `ST-${gateway}-1`, amount: '500.10' });
    const hub = createPaymentHub();
    const seen: string[] = [];
    hub.on(
      'payment.completed',
      (e) => void seen.push(`${e.orderId} ${e.amount} ${e.verification}`),
    );
    const byStatus = await hub.reconcile(provider, made.reference);
    const webhookHub = createPaymentHub();
    const byWebhook: string[] = [];
    webhookHub.on('payment.completed', (e) => void byWebhook.push(`${e.id} ${e.amount}`));
    const hooked = await webhookHub.receive(provider, {
      body: Buffer.from(made.webhook.body),
      // As Node hands them over: lower-cased.
      headers: Object.fromEntries(
        Object.entries(made.webhook.headers).map(([k, v]) => [k.toLowerCase(), v]),
      ),
      transport: 'http',
      receivedAt: new Date(),
    });
    expect([hooked.outcome, hooked.error?.message]).toEqual(['processed', undefined]);
    expect(byStatus.outcome).toBe('processed');
    expect(byStatus.events.map((e) => `${e.id} ${e.amount}`)).toEqual(byWebhook);
    expect(seen).toEqual([`ST-${gateway}-1 500.10 status-query`]);
    expect(apis.asked.at(-1)).toMatchObject({ gateway, by: 'reference', key: made.reference });
    const unknown = await hub.reconcile(provider, 'NEVER-MADE-1');
    // Cashy answers an unknown order with an error code (a failed query), the others with no data.
    expect([unknown.outcome, unknown.events]).toEqual([
      gateway === 'cashy' ? 'failed' : 'unhandled',
      [],
    ]);
  },
);

it('answers 503 while down, and after its delay', async () => {
  const provider = providers().cashy;
  const made = apis.pay('cashy', { orderId: 'ST-down' });
  apis.state.down = true;
  const hub = createPaymentHub();
  hub.on('payment.completed', () => undefined);
  const down = await hub.reconcile(provider, made.reference);
  apis.state.down = false;
  apis.state.delayMs = 200;
  const started = Date.now();
  const up = await hub.reconcile(provider, made.reference);
  apis.state.delayMs = 0;
  expect([down.outcome, down.error?.code, up.outcome]).toEqual([
    'failed',
    'ERR_GATEWAY_API',
    'processed',
  ]);
  expect(Date.now() - started).toBeGreaterThanOrEqual(190);
});
