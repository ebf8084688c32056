import express from 'express';
import request from 'supertest';
import { createPaymentHub } from '@payhook/core';
import { createPayinMiddleware } from '@payhook/payin';
import {
  CASHY_TEST_API_KEY, // 'payhook-test-cashy-api-key', also the CLI's default --api-key
  createCashyFixtures,
  isAcknowledged,
  sendFixture,
} from '@payhook/testing';

export async function cashyWithYourKey(apiKey = process.env.CASHY_API_KEY ?? CASHY_TEST_API_KEY) {
  const cashy = createCashyFixtures({ merchantId: '100001', apiKey });
  const hub = createPaymentHub();
  const paid: string[] = [];
  hub.on('payment.completed', async (event) => void paid.push(event.id)); // without a listener: retry

  const app = express();
  // providerOptions: { merchantId, apiKey, timeZone, currency }, the plugin's options
  app.use('/webhooks/cashy', createPayinMiddleware(hub, cashy.providerOptions));

  const delivery = cashy.payin({ mchOrderNo: 'C-1', amount: '100.10' });
  const reply = await sendFixture(request(app).post('/webhooks/cashy'), delivery);
  return { acknowledged: isAcknowledged(delivery, reply), paid, sign: delivery.headers.Sign };
}
