import express from 'express';
import request from 'supertest';
import { createPaymentHub } from '@payhook/core';
import { createNewpayMiddleware } from '@payhook/newpay-callback';
import { createNewpayFixtures, forgeDelivery, isAcknowledged, sendFixture } from '@payhook/testing';

export async function newpayWithSupertest() {
  const newpay = createNewpayFixtures(); // generates NewPay's platform key pair for this run
  const hub = createPaymentHub();
  const paid: string[] = [];
  hub.on('payment.completed', async (event) => void paid.push(event.orderId!));

  const app = express();
  // providerOptions trusts the generated key: { platformPublicKey, appId: '6' }
  app.use('/webhooks/newpay', createNewpayMiddleware(hub, newpay.providerOptions));

  const delivery = newpay.paymentCallback({ orderNo: 'A-1', amount: '15000.00' });
  const reply = await sendFixture(request(app).post('/webhooks/newpay'), delivery);
  const forged = await sendFixture(request(app).post('/webhooks/newpay'), forgeDelivery(delivery));

  return {
    acknowledged: isAcknowledged(delivery, reply), // true: 200 {"transResult":"SUCCESS"}
    paid, // ['A-1']: the forged copy emitted nothing
    forgedStatus: forged.status, // 401
  };
}
