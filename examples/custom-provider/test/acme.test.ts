import express from 'express';
import request from 'supertest';
import { createPaymentHub, ProviderConfigError } from '@payhook/core';
import { createCountingStore, recordHub } from '@payhook/core/testing';
import { createAcmeMiddleware, createAcmeProvider, type AcmeOptions } from '../src';
import { signAcme } from '../src/signing';

function harness(secret: AcmeOptions['secret'] = 'test-secret') {
  const store = createCountingStore();
  const hub = createPaymentHub({ store });
  const rec = recordHub(hub);
  const app = express();
  app.use('/webhooks/acme', createAcmeMiddleware(hub, { secret }));
  const post = (d: { body: string; headers: Record<string, string> }) =>
    request(app).post('/webhooks/acme').set(d.headers).send(d.body);
  return { store, rec, post };
}

const failed = {
  event: 'charge.failed',
  charge_id: 'ch_2',
  amount_cents: 1000,
  currency: 'PHP',
  created_at: '2025-01-02 10:00:00',
  failure_code: 'card_declined',
};

describe('acme provider', () => {
  it('maps charge.failed to payment.failed with its code', async () => {
    const h = harness();
    const reply = await h.post(signAcme(failed, 'test-secret'));
    expect(reply.text).toBe('{"received":true}');
    expect(h.rec.events[0]).toMatchObject({
      type: 'payment.failed',
      amount: '10.00',
      orderId: null,
      failure: { code: 'card_declined' },
    });
  });

  it('during a secret rotation accepts the old and the new secret, and says which matched', async () => {
    const h = harness(['old-secret', 'new-secret']);
    await h.post(signAcme(failed, 'new-secret'));
    await h.post(signAcme({ ...failed, charge_id: 'ch_3' }, 'old-secret'));
    expect(h.rec.events.map((e) => [e.transactionId, e.keyIndex])).toEqual([
      ['ch_2', 1],
      ['ch_3', 0],
    ]);
    const stranger = await h.post(signAcme({ ...failed, charge_id: 'ch_4' }, 'test-secret'));
    expect(stranger.status).toBe(401);
    expect(h.rec.events).toHaveLength(2);
  });

  it('a delivery without a signature is 401 and emits nothing', async () => {
    const h = harness();
    const reply = await h.post({
      body: JSON.stringify(failed),
      headers: { 'content-type': 'application/json' },
    });
    expect(reply.status).toBe(401);
    expect(reply.body.error.code).toBe('ERR_SIGNATURE_MISSING');
    expect(h.rec.events).toHaveLength(0);
    expect(h.store.calls.claim).toBe(0);
  });

  it('an amount that is not whole cents is 400 and emits nothing', async () => {
    const h = harness();
    const reply = await h.post(signAcme({ ...failed, amount_cents: 10.5 }, 'test-secret'));
    expect(reply.status).toBe(400);
    expect(h.rec.events).toHaveLength(0);
  });

  it('checks its options at construction', () => {
    const option = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        expect(error).toBeInstanceOf(ProviderConfigError);
        return (error as ProviderConfigError).option;
      }
      throw new Error('no error');
    };
    expect(option(() => createAcmeProvider({ secret: '' }))).toBe('secret');
    expect(option(() => createAcmeProvider({ secret: [] }))).toBe('secret');
    expect(option(() => createAcmeProvider({ secret: ['s', ' '] }))).toBe('secret[1]');
    expect(option(() => createAcmeProvider({ secret: 's', timeZone: 'Mars/Base' }))).toBe(
      'timeZone',
    );
  });
});
