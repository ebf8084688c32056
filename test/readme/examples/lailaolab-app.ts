// packages/lailaolab-socket/README.md, "Usage": the block there is the region below, byte for
// byte (test/readme/readme-examples.test.ts checks it and runs this file against the simulator).
// #region readme
import express from 'express';
import { createPaymentHub } from '@payhook/core';
import { createLailaolabMiddleware, createLailaolabSource } from '@payhook/lailaolab-socket';
import { expireOrder, generateQr, markOrderPaid } from './shop'; // your own code

// Awaited payments live in memory by default; give a shared list to survive restarts (below).
const hub = createPaymentHub();
hub.on('payment.completed', async (event) => {
  await markOrderPaid(event.transactionId, event.amount); // "100000" kip, exact text
});
hub.on('awaited.overdue', (payment) => expireOrder(payment.reference)); // no answer by its until
hub.on('source.down', ({ detail }) => console.warn('Lailaolab socket down:', detail));
hub.on('error', (error) => console.error(error.code, error.message));

// One socket per process, opened here.
const lailaolab = createLailaolabSource(hub, {
  secretKey: process.env.LAILAOLAB_SECRET_KEY!,
  confirmByStatusQuery: true, // recommended: never credit an order from the socket alone
  url: process.env.LAILAOLAB_SOCKET_URL, // unset: Lailaolab's own servers (see Options)
  statusQuery: { baseUrl: process.env.LAILAOLAB_API_BASE },
});

const app = express();
// POST: the portal webhook; GET: health. Shares the source's provider; opens no socket.
app.use('/payhook/lailaolab', createLailaolabMiddleware(hub, { source: lailaolab }));

app.post('/orders/:id/qr', async (req, res) => {
  const { transactionId, qrCode } = await generateQr(req.params.id); // your QR call
  await lailaolab.watch(transactionId); // awaited until paid or overdue, across disconnects
  res.json({ qrCode });
});

const server = app.listen(Number(process.env.PORT ?? 3000));
process.once('SIGTERM', () => server.close(() => void lailaolab.close()));
// #endregion
