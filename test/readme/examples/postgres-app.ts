// packages/postgres/README.md, "Usage": the block there is the region below, byte for byte
// (test/readme/readme-examples.test.ts checks it and runs this file against real HTTP and PostgreSQL).
// #region readme
import express from 'express';
import { Pool } from 'pg';
import { createPaymentHub } from '@payhook/core';
import { createPostgresStore } from '@payhook/postgres';
import { createNewpayMiddleware } from '@payhook/newpay-callback';

const pool = new Pool({ connectionString: process.env.DATABASE_URL });
pool.on('error', (error) => console.warn('idle connection lost:', error.message));
const store = createPostgresStore({ pool, schema: process.env.PAYHOOK_SCHEMA ?? 'payhook' });
const hub = createPaymentHub({ store });

hub.on('payment.completed', async (event, { tx }) => {
  // Inside the event's transaction: committed with payhook's processed record, or not at all.
  await tx.query('UPDATE orders SET paid = $2 WHERE id = $1 AND paid IS NULL', [
    event.orderId,
    event.amount,
  ]);
});

const app = express();
app.use(
  '/webhooks/newpay',
  createNewpayMiddleware(hub, {
    platformPublicKey: process.env.NEWPAY_PLATFORM_PUBLIC_KEY!,
    appId: process.env.NEWPAY_APP_ID!,
  }),
);

// The boot check: fails when a migration is missing (run `payhook-postgres migrate` first).
store.ready().then(
  () => {
    const server = app.listen(Number(process.env.PORT ?? 3000));
    process.once('SIGTERM', () => server.close(() => void pool.end()));
  },
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
// #endregion
