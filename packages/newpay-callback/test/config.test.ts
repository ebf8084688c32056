import express4 from 'express4';
import request from 'supertest';
import { createPaymentHub, ProviderConfigError, type PaymentEvent } from '@payhook/core';
import { createNewpayMiddleware, createNewpayProvider } from '../src';
import { signV1Callback } from '../src/signing';
import { ACK_OK, keys, platformPublicPem, providerOptions, v1Payment } from './helpers';

const configError = (fn: () => unknown): ProviderConfigError => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderConfigError);
    return error as ProviderConfigError;
  }
  throw new Error('expected a ProviderConfigError');
};

describe('options are checked at construction', () => {
  it('names a missing or unusable platform key', () => {
    const missing = configError(() =>
      createNewpayProvider({ appId: 6 } as unknown as Parameters<typeof createNewpayProvider>[0]),
    );
    expect(missing.option).toBe('platformPublicKey');
    expect(missing.message).toMatch(/^@payhook\/newpay-callback: /);
    expect(
      configError(() => createNewpayProvider(providerOptions({ platformPublicKey: 'nope' })))
        .option,
    ).toBe('platformPublicKey');
    const privatePem = keys.platform.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const wrongKind = configError(() =>
      createNewpayProvider(providerOptions({ platformPublicKey: privatePem })),
    );
    expect(wrongKind.message).not.toContain(privatePem.slice(40, 80));
  });

  it('requires appId', () => {
    for (const appId of [undefined, '', ' 6', -1, 1.5]) {
      const error = configError(() =>
        createNewpayProvider(providerOptions({ appId: appId as unknown as string })),
      );
      expect(error.option).toBe('appId');
    }
  });

  it('checks timeZone, emptyValues, nestedKeys and statusQuery', () => {
    expect(
      configError(() => createNewpayProvider(providerOptions({ timeZone: 'Mars/Base' }))).option,
    ).toBe('timeZone');
    expect(
      configError(() =>
        createNewpayProvider(providerOptions({ emptyValues: 'maybe' as unknown as 'keep' })),
      ).option,
    ).toBe('emptyValues');
    expect(
      configError(() =>
        createNewpayProvider(providerOptions({ nestedKeys: 'flat' as unknown as 'sorted' })),
      ).option,
    ).toBe('nestedKeys');
    const query = { mchId: 'M1', merchantPrivateKey: keys.merchant.privateKey };
    expect(
      configError(() =>
        createNewpayProvider(providerOptions({ statusQuery: { ...query, mchId: '' } })),
      ).option,
    ).toBe('statusQuery.mchId');
    expect(
      configError(() =>
        createNewpayProvider(
          providerOptions({ statusQuery: { ...query, merchantPrivateKey: 'x' } }),
        ),
      ).option,
    ).toBe('statusQuery.merchantPrivateKey');
    expect(
      configError(() =>
        createNewpayProvider(providerOptions({ statusQuery: { ...query, baseUrl: 'ftp://x' } })),
      ).option,
    ).toBe('statusQuery.baseUrl');
  });

  it('accepts the platform key as bare Base64 DER, as NewPay portals hand it out', async () => {
    const der = platformPublicPem
      .replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '')
      .replace(/\s+/g, '');
    const provider = createNewpayProvider(providerOptions({ platformPublicKey: der }));
    expect(provider.id).toBe('newpay');
    expect(provider.ack.ok).toMatchObject({ status: 200, body: '{"transResult":"SUCCESS"}' });
    expect(provider.ack.retry).toMatchObject({ status: 500, body: '{"transResult":"FAIL"}' });
  });
});

describe('createNewpayMiddleware', () => {
  it('works on Express 4 behind express.json() when the raw bytes are kept', async () => {
    const hub = createPaymentHub();
    const events: PaymentEvent[] = [];
    hub.onAny((e) => {
      events.push(e);
    });
    const app = express4();
    app.use(
      express4.json({
        verify: (req, _res, buf) => {
          (req as unknown as { rawBody: Buffer }).rawBody = buf;
        },
      }),
    );
    app.post('/newpay', createNewpayMiddleware(hub, { ...providerOptions(), limit: 8 * 1024 }));
    const body = signV1Callback(v1Payment(), keys.platform.privateKey, {
      keyOrder: 'reversed',
    }).body;
    const reply = await request(app)
      .post('/newpay')
      .set('content-type', 'application/json')
      .send(body);
    expect(reply.text).toBe(ACK_OK);
    expect(events.map((e) => e.amount)).toEqual(['123.00']);
  });

  it('checks its options at construction', () => {
    expect(() =>
      createNewpayMiddleware(createPaymentHub(), { ...providerOptions(), limit: 0 }),
    ).toThrow(/limit/);
    expect(() =>
      createNewpayMiddleware(createPaymentHub(), { ...providerOptions(), appId: '' }),
    ).toThrow(ProviderConfigError);
  });
});
