/**
 * Issue 23, item 3: two mounts that share the platform key (a PH and an MY account, the documented
 * `id` option) each processed the same notification: two event ids, the order credited twice. The
 * platform key signs every merchant's notifications and param names no account, so mounts of one
 * hub that share a key must keep their payments apart with `orderIdPrefix`: refused at boot
 * otherwise. Real HTTP: one signed notification posted to both mounts.
 */
import express from 'express';
import request from 'supertest';
import { createPaymentHub, ProviderConfigError, type PaymentEvent } from '@payhook/core';
import { createSignedParamMiddleware, type SignedParamOptions } from '../src';
import {
  OK_BODY,
  paymentParam,
  platformPublicBase64,
  platformPublicPem,
  signed,
  stranger,
} from './helpers';

const strangerPublicPem = stranger.publicKey.export({ type: 'spki', format: 'pem' }).toString();

type MountOptions = Partial<SignedParamOptions> & Pick<SignedParamOptions, 'id'>;

/** One hub, one mount per account, each on its own path; every completed payment counted. */
function twoAccounts(ph: MountOptions, my: MountOptions) {
  const hub = createPaymentHub();
  const credited: PaymentEvent[] = [];
  hub.on('payment.completed', (event) => void credited.push(event));
  const app = express();
  const mount = (path: string, options: MountOptions, country: 'PH' | 'MY') =>
    app.use(
      path,
      createSignedParamMiddleware(hub, {
        platformPublicKey: platformPublicBase64,
        country,
        ...options,
      }),
    );
  mount('/webhooks/paycools-ph', ph, 'PH');
  mount('/webhooks/paycools-my', my, 'MY');
  const post = (path: string, body: string) =>
    request(app).post(path).set('content-type', 'application/json').send(body);
  return { credited, post };
}

const bootError = (build: () => unknown): ProviderConfigError => {
  try {
    build();
  } catch (error) {
    return error as ProviderConfigError;
  }
  throw new Error('expected the second mount to be refused at boot');
};

describe('mounts of one hub sharing a platform key', () => {
  it('the attack setup (no orderIdPrefix) is refused at boot: it would credit one order twice', () => {
    const error = bootError(() => twoAccounts({ id: 'paycools-ph' }, { id: 'paycools-my' }));
    expect(error).toBeInstanceOf(ProviderConfigError);
    expect(error.option).toBe('orderIdPrefix');
    expect(error.message).toMatch(/"paycools-my" and "paycools-ph" mounts share a platform key/);
  });

  it('one prefix is not enough: both mounts need one', () => {
    const error = bootError(() =>
      twoAccounts({ id: 'paycools-ph', orderIdPrefix: 'PH-' }, { id: 'paycools-my' }),
    );
    expect(error.option).toBe('orderIdPrefix');
  });

  it('overlapping prefixes are refused: neither may start with the other', () => {
    const error = bootError(() =>
      twoAccounts(
        { id: 'paycools-ph', orderIdPrefix: 'SHOP-' },
        { id: 'paycools-my', orderIdPrefix: 'SHOP-MY-' },
      ),
    );
    expect(error.message).toMatch(/overlap/);
  });

  it('the same key in another form (PEM vs Base64 DER) or inside a rotation list is the same key', () => {
    expect(() =>
      twoAccounts(
        { id: 'paycools-ph' },
        { id: 'paycools-my', platformPublicKey: [strangerPublicPem, platformPublicPem] },
      ),
    ).toThrow(ProviderConfigError);
  });

  it('disjoint prefixes: the notification is credited once, on its own mount; the other refuses it', async () => {
    const { credited, post } = twoAccounts(
      { id: 'paycools-ph', orderIdPrefix: 'PH-' },
      { id: 'paycools-my', orderIdPrefix: 'MY-' },
    );
    const { body } = signed(paymentParam({ mchOrderId: 'PH-1001', transactionId: 'C77001' }));
    const ph = await post('/webhooks/paycools-ph', body);
    const my = await post('/webhooks/paycools-my', body);
    expect([ph.status, ph.text]).toEqual([200, OK_BODY]);
    expect(my.status).toBe(401);
    expect(JSON.parse(my.text).error.code).toBe('ERR_SENDER_UNKNOWN');
    expect(credited.map((e) => e.id)).toEqual(['paycools-ph:order.payment.success:C77001']);
  });

  it('mounts with different keys need no prefix; the same id twice is one provider (one event id)', async () => {
    expect(() =>
      twoAccounts(
        { id: 'paycools-ph' },
        { id: 'paycools-my', platformPublicKey: strangerPublicPem },
      ),
    ).not.toThrow();
    const { credited, post } = twoAccounts({ id: 'paycools' }, { id: 'paycools' });
    const { body } = signed(paymentParam({ transactionId: 'C77002' }));
    expect((await post('/webhooks/paycools-ph', body)).status).toBe(200);
    expect((await post('/webhooks/paycools-my', body)).status).toBe(200);
    expect(credited).toHaveLength(1);
  });

  it('mounts on two hubs are not seen by each other (see the README): each hub checks its own', () => {
    const mount = (id: string) =>
      createSignedParamMiddleware(createPaymentHub(), {
        id,
        platformPublicKey: platformPublicBase64,
        country: 'PH',
      });
    expect(() => [mount('paycools-ph'), mount('paycools-my')]).not.toThrow();
  });
});
