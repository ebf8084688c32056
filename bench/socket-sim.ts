import { buildLailaolabMessage, startLailaolabSimulator } from '@payhook/testing';

/**
 * The gateway side of the socket benchmark, in its own process: @payhook/testing's simulator (a local
 * Socket.IO server emitting on `join::<secret>` as Lailaolab does). On `emit` it sends `count`
 * distinct payment messages, yielding to its event loop every `batch` so socket.io can flush.
 */
async function main(): Promise<void> {
  const secretKey = process.argv[2]!;
  const sim = await startLailaolabSimulator({ secretKey });
  process.send!({ type: 'ready', socketBase: sim.socketBase, apiBase: sim.apiBase });
  process.on(
    'message',
    async (m: { type: string; count?: number; tag?: string; batch?: number }) => {
      if (m.type === 'emit') {
        const at = new Date();
        const batch = m.batch ?? 100;
        for (let i = 0; i < m.count!; i++) {
          sim.emit(
            buildLailaolabMessage({
              transactionId: `${m.tag}-${String(i).padStart(9, '0')}`,
              amount: 10_000 + i,
              at,
              refNo: `REF${i}`,
            }),
          );
          if (i % batch === batch - 1) await new Promise((resolve) => setImmediate(resolve));
        }
        process.send!({ type: 'emitted' });
      } else if (m.type === 'stop') {
        await sim.close();
        process.exit(0);
      }
    },
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
