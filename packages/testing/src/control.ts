import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LailaolabSimulator } from './lailaolab-simulator';

/**
 * A small HTTP front for a running Lailaolab simulator, so another process (the `payhook send`
 * command, a shell script) can play payments on it:
 *
 *   GET  /                          → { socketBase, apiBase, clients }
 *   POST /transactions              {amount, transactionId?, orderNo?} → 201 the status API record
 *   POST /transactions/<id>/pay     → the message emitted on join::<secret> (and its client count)
 *   POST /transactions/<id>/fail    → same, message FAILED
 *   GET  /transactions/<id>         → the status API record, or 404
 */
export interface SimulatorControl {
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY = 16 * 1024;

export async function startSimulatorControl(
  simulator: LailaolabSimulator,
  options: { port?: number; host?: string } = {},
): Promise<SimulatorControl> {
  const server = createServer((req, res) => {
    const reply = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(text);
    };
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return reply(413, { error: 'body too large' });
      let input: Record<string, unknown> = {};
      if (size > 0) {
        try {
          const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (parsed && typeof parsed === 'object') input = parsed as Record<string, unknown>;
        } catch {
          return reply(400, { error: 'body is not JSON' });
        }
      }
      const parts = new URL(req.url ?? '/', 'http://x').pathname.split('/').filter(Boolean);
      try {
        if (req.method === 'GET' && parts.length === 0)
          return reply(200, {
            socketBase: simulator.socketBase,
            apiBase: simulator.apiBase,
            clients: simulator.connectedClients(),
          });
        if (parts[0] !== 'transactions') return reply(404, { error: 'not found' });
        if (req.method === 'POST' && parts.length === 1) {
          const amount = input.amount;
          if (typeof amount !== 'string' && typeof amount !== 'number')
            return reply(400, { error: 'amount (whole kip) is required' });
          const data = simulator.createTransaction({
            amount: typeof amount === 'string' && /^\d+$/.test(amount) ? Number(amount) : amount,
            transactionId:
              typeof input.transactionId === 'string' ? input.transactionId : randomUUID(),
            orderNo: typeof input.orderNo === 'string' ? input.orderNo : undefined,
          });
          return reply(201, data);
        }
        const id = decodeURIComponent(parts[1] ?? '');
        if (!simulator.transaction(id)) return reply(404, { error: `unknown transaction ${id}` });
        if (req.method === 'GET' && parts.length === 2)
          return reply(200, simulator.transaction(id));
        if (req.method === 'POST' && (parts[2] === 'pay' || parts[2] === 'fail')) {
          const clients = simulator.connectedClients();
          const message = parts[2] === 'pay' ? simulator.pay(id) : simulator.fail(id);
          return reply(200, { message, clients });
        }
        return reply(404, { error: 'not found' });
      } catch (error) {
        return reply(500, { error: (error as Error).message });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
