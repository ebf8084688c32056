// packages/payin/README.md, "The API client": the block there is the region below, byte for byte
// (test/readme/readme-examples.test.ts checks it and runs it against a local Cashy API).
// #region readme
import { createPayinClient } from '@payhook/payin';

const cashy = createPayinClient({
  baseUrl: process.env.CASHY_API_BASE!, // your Cashy API host, e.g. https://<host>/stage-api/
  merchantId: process.env.CASHY_MERCHANT_ID!,
  apiKey: process.env.CASHY_API_KEY!,
});

export async function openPayin(mchOrderNo: string) {
  const order = await cashy.createPayin({
    currency: 'IDR',
    payType: 21,
    amount: '100.10',
    mchOrderNo,
    notifyUrl: 'https://your.host/webhooks/cashy',
    remark: 'remark',
    realName: 'Jack',
    phone: '+62xxxxxxx',
    email: 'jack@example.com',
  });
  // order.orderNo, order.payCode, order.payDeskUrl ...
  const status = await cashy.queryPayin({ orderNo: order.orderNo }); // or { mchOrderNo }
  return { order, status };
}
// #endregion
