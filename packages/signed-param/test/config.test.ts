import { createPaymentHub, ProviderConfigError } from '@payhook/core';
import request from 'supertest';
import express from 'express';
import {
  createSignedParamMiddleware,
  createSignedParamProvider,
  type SignedParamOptions,
} from '../src';
import {
  OK_BODY,
  merchant,
  paymentParam,
  platform,
  platformPublicBase64,
  platformPublicPem,
  signed,
} from './helpers';

const build = (options: Partial<SignedParamOptions>) => () =>
  createSignedParamProvider({
    platformPublicKey: platformPublicBase64,
    country: 'PH',
    ...options,
  } as SignedParamOptions);

function configError(fn: () => unknown): ProviderConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderConfigError);
    return error as ProviderConfigError;
  }
  throw new Error('expected a ProviderConfigError');
}

describe('options are checked at construction', () => {
  it.each([
    ['missing', undefined],
    ['not a key', 'hello world'],
    ['Base64 that is not DER', Buffer.from('not a key at all').toString('base64')],
    [
      'a private key in place of the public one',
      platform.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    ],
  ])('platformPublicKey %s → ProviderConfigError naming it', (_name, key) => {
    const error = configError(build({ platformPublicKey: key as string }));
    expect(error.option).toBe('platformPublicKey');
    expect(error.message).toMatch(/^@payhook\/signed-param: option "platformPublicKey"/);
  });

  it('never echoes the key in the error message', () => {
    const key = platformPublicBase64.slice(0, 200); // truncated: does not parse
    const error = configError(build({ platformPublicKey: key }));
    expect(error.message).not.toContain(key.slice(0, 40));
  });

  it.each([
    ['id', { id: 'PayCools!' }],
    ['country', { country: 'VN' as never }],
    ['timeZones.ID', { timeZones: { ID: 'Mars/Olympus' } }],
    ['timeZones.VN', { timeZones: { VN: 'Asia/Ho_Chi_Minh' } as never }],
    [
      'statusQuery.baseUrl',
      { statusQuery: { baseUrl: 'ftp://x', appId: 'a', merchantPrivateKey: 'k' } },
    ],
    ['statusQuery.baseUrl', { statusQuery: { appId: 'a', merchantPrivateKey: 'k' } as never }],
    [
      'statusQuery.appId',
      { statusQuery: { baseUrl: 'https://openapi.example' } as never, country: 'PH' as const },
    ],
    [
      'statusQuery.merchantPrivateKey',
      {
        statusQuery: { baseUrl: 'https://openapi.example', appId: 'a' } as never,
        country: 'PH' as const,
      },
    ],
    ['country', { country: undefined }],
    [
      'country',
      {
        statusQuery: {
          baseUrl: 'https://openapi.example',
          appId: 'a',
          merchantPrivateKey: merchant.privateKey,
        },
        country: undefined,
      },
    ],
    [
      'statusQuery.timeoutMs',
      {
        statusQuery: {
          baseUrl: 'https://openapi.example',
          appId: 'a',
          merchantPrivateKey: merchant.privateKey,
          timeoutMs: -1,
        },
        country: 'PH' as const,
      },
    ],
    // The deprecated names are still checked under their own names.
    ['baseUrl', { baseUrl: 'ftp://x', appId: 'a', merchantPrivateKey: 'k' }],
    ['appId', { baseUrl: 'https://openapi.example', country: 'PH' as const }],
    [
      'queryTimeoutMs',
      {
        baseUrl: 'https://openapi.example',
        appId: 'a',
        merchantPrivateKey: merchant.privateKey,
        country: 'PH' as const,
        queryTimeoutMs: -1,
      },
    ],
  ])('a bad %s is a ProviderConfigError naming it', (option, options) => {
    expect(configError(build(options)).option).toBe(option);
  });

  it('accepts the platform key as bare Base64 DER and as PEM, and both verify', async () => {
    for (const key of [platformPublicBase64, platformPublicPem]) {
      const hub = createPaymentHub();
      let seen = 0;
      hub.on('payment.completed', () => {
        seen++;
      });
      const app = express().use(
        createSignedParamMiddleware(hub, { platformPublicKey: key, country: 'PH' }),
      );
      const res = await request(app)
        .post('/')
        .set('content-type', 'application/json')
        .send(signed(paymentParam()).body);
      expect(res.text).toBe(OK_BODY);
      expect(seen).toBe(1);
    }
  });

  it('names events after a custom id (a merchant calling it after its brand)', async () => {
    const hub = createPaymentHub();
    const ids: string[] = [];
    hub.onAny((e) => {
      ids.push(`${e.provider} ${e.id}`);
    });
    const middleware = createSignedParamMiddleware(hub, {
      platformPublicKey: platformPublicBase64,
      country: 'PH',
      id: 'paycools',
    });
    expect(middleware.provider.id).toBe('paycools');
    await request(express().use(middleware))
      .post('/')
      .set('content-type', 'application/json')
      .send(signed(paymentParam()).body);
    expect(ids).toEqual(['paycools paycools:order.payment.success:C1032653961085706055']);
  });

  it('answers the platform with its own success body and a non-2xx retry body', () => {
    const p = build({})();
    expect(p.ack.ok).toMatchObject({ status: 200, body: OK_BODY });
    expect(p.ack.retry.status).toBeGreaterThanOrEqual(300);
    expect(p.ack.retry.body).not.toBe(OK_BODY);
    expect(p.id).toBe('signed-param');
  });

  it('gives the platform its retry body when a listener fails', async () => {
    const hub = createPaymentHub();
    hub.on('payment.completed', () => {
      throw new Error('database down');
    });
    const middleware = createSignedParamMiddleware(hub, {
      platformPublicKey: platformPublicBase64,
      country: 'PH',
    });
    const res = await request(express().use(middleware))
      .post('/')
      .set('content-type', 'application/json')
      .send(signed(paymentParam()).body);
    expect(res.status).toBe(503);
    expect(res.text).toBe(middleware.provider.ack.retry.body);
    expect(res.text).not.toBe(OK_BODY);
  });
});
