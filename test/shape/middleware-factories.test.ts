/**
 * Every gateway's middleware factory has one shape: `createXMiddleware(hub, options)` takes the
 * provider's options plus the adapter's `limit` and `onResult`, and returns the middleware with
 * `.provider`. Checked over real HTTP with each gateway's genuine signed delivery.
 */
import express from 'express';
import request from 'supertest';
import {
  createPaymentHub,
  type PaymentHub,
  type ReceiveResult,
  type WebhookMiddlewareOptions,
} from '@payhook/core';
import { type GatewayMiddleware } from '@payhook/core/plugin';
import { createLailaolabMiddleware } from '@payhook/lailaolab-socket';
import { createNewpayMiddleware } from '@payhook/newpay-callback';
import { createPayinMiddleware } from '@payhook/payin';
import { createSignedParamMiddleware } from '@payhook/signed-param';
import {
  createCashyFixtures,
  createLailaolabFixtures,
  createNewpayFixtures,
  createSignedParamFixtures,
  sendFixture,
  type GatewayDelivery,
} from '@payhook/testing';

interface Case {
  name: string;
  providerId: string;
  mount(hub: PaymentHub, adapter: WebhookMiddlewareOptions): Promise<GatewayMiddleware>;
  delivery(): GatewayDelivery;
  close?(): Promise<void>;
}

const newpay = createNewpayFixtures();
const signedParam = createSignedParamFixtures();
const cashy = createCashyFixtures();
const lailaolab = createLailaolabFixtures();
let closeSimulator: (() => Promise<void>) | undefined;

const cases: Case[] = [
  {
    name: 'newpay-callback',
    providerId: 'newpay',
    mount: async (hub, adapter) =>
      createNewpayMiddleware(hub, { ...newpay.providerOptions, ...adapter }),
    delivery: () => newpay.paymentCallback({ orderNo: 'SHAPE-1', amount: '15000.00' }),
  },
  {
    name: 'signed-param',
    providerId: 'signed-param',
    mount: async (hub, adapter) =>
      createSignedParamMiddleware(hub, { ...signedParam.providerOptions, ...adapter }),
    delivery: () => signedParam.payment({ orderId: 'SHAPE-2', amount: '150' }),
  },
  {
    name: 'payin',
    providerId: 'cashy',
    mount: async (hub, adapter) =>
      createPayinMiddleware(hub, { ...cashy.providerOptions, ...adapter }),
    delivery: () => cashy.payin({ mchOrderNo: 'SHAPE-3', amount: '15000' }),
  },
  {
    name: 'lailaolab-socket',
    providerId: 'lailaolab',
    mount: async (hub, adapter) => {
      const sim = await lailaolab.startSimulator();
      closeSimulator = () => sim.close();
      const middleware = createLailaolabMiddleware(hub, {
        ...lailaolab.providerOptions(sim),
        ...adapter,
      });
      const { transactionId } = sim.createTransaction({ amount: 15000, orderNo: 'SHAPE-4' });
      pendingLailaolab = lailaolab.webhookFor(sim.pay(transactionId));
      return middleware;
    },
    delivery: () => pendingLailaolab!,
  },
];
let pendingLailaolab: GatewayDelivery | undefined;

afterAll(async () => {
  await closeSimulator?.();
});

describe.each(cases)('createXMiddleware of $name', (c) => {
  it('passes onResult through, applies limit, and exposes .provider', async () => {
    const hub = createPaymentHub();
    const completed: string[] = [];
    hub.on('payment.completed', async (event) => void completed.push(event.id));
    const results: ReceiveResult[] = [];
    const middleware = await c.mount(hub, { onResult: (r) => results.push(r), limit: 4096 });

    expect(middleware.provider.id).toBe(c.providerId);
    expect(typeof middleware).toBe('function');

    const app = express();
    app.use('/hook', middleware);
    const delivery = c.delivery();
    const reply = await sendFixture(request(app).post('/hook'), delivery);
    expect(reply.status).toBe(delivery.successAck.status);
    expect(results.map((r) => r.outcome)).toEqual(['processed']);
    expect(completed).toHaveLength(1);

    const oversized = await request(app)
      .post('/hook')
      .set('content-type', 'application/json')
      .send(`{"pad":"${'x'.repeat(5000)}"}`);
    expect(oversized.status).toBe(413);
    expect(completed).toHaveLength(1);
  });
});
