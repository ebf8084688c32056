import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPaymentHub } from '@payhook/core';
import { recordHub, runProviderConformance } from '@payhook/core/testing';
import { createAcmeConfirmedProvider, reconcileCharges, type AcmeCharge } from '../src';

/** A stand-in for Acme's status API: `GET /v1/charges/{id}`, Bearer key, and an outage switch. */
const charges = new Map<string, AcmeCharge>();
let down = false;
let apiBase = 'http://127.0.0.1:1';
let server: Server;
beforeAll(async () => {
  server = createServer((req, res) => {
    const id = decodeURIComponent(req.url!.replace(/^\/v1\/charges\//, ''));
    const charge = charges.get(id);
    const authorized = req.headers.authorization === 'Bearer test-key';
    res.statusCode = down ? 503 : !authorized ? 401 : charge ? 200 : 404;
    res.end(charge && !down && authorized ? JSON.stringify(charge) : '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => {
  down = false;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const charge = (id: string, fields: Partial<AcmeCharge> = {}): AcmeCharge => {
  const record: AcmeCharge = {
    id,
    status: 'succeeded',
    order_ref: 'A-1',
    amount_cents: 50010,
    currency: 'PHP',
    updated_at: new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000).toISOString(),
    ...fields,
  };
  charges.set(id, record);
  return record;
};
const ping = (id: string, event = 'charge.updated') => ({
  body: JSON.stringify({ event, charge_id: id }),
});
const provider = () =>
  createAcmeConfirmedProvider({ apiKey: 'test-key', statusQuery: { baseUrl: apiBase } });

const paid = charge('ch_1');
charge('ch_2old', { updated_at: new Date(Date.now() - 2 * 86_400_000).toISOString() });

runProviderConformance({
  name: 'acme ping (confirmed by status query)',
  provider,
  valid: ping('ch_1'),
  expected: [
    {
      type: 'payment.completed',
      id: 'acme-ping:ch_1:succeeded',
      orderId: 'A-1',
      amount: '500.10',
      occurredAt: paid.updated_at,
      verification: 'status-query',
    },
  ],
  contradicted: [{ fixture: ping('ch_404'), status: 409 }],
  unconfirmable: {
    fixture: ping('ch_1'),
    before: () => {
      down = true;
    },
  },
  stale: ping('ch_2old'),
  malformed: ping('../v1/refunds'),
  notPaymentEvent: ping('ch_1', 'charge.viewed'),
});

describe('acme ping: confirm and reconcile', () => {
  it('a payment seen by a ping and by hub.reconcile is processed once', async () => {
    const hub = createPaymentHub();
    const rec = recordHub(hub);
    const acme = provider();
    charge('ch_3', { order_ref: 'A-3' });
    // A charge the ping never announced, asked about by its id: processed once, like a ping.
    const [result, unknown] = await reconcileCharges(hub, acme, ['ch_3', 'ch_404']);
    expect(result!.outcome).toBe('processed');
    expect(unknown!.outcome).toBe('unhandled');
    const again = await hub.receive(acme, {
      body: Buffer.from(ping('ch_3').body),
      headers: {},
      transport: 'http',
      receivedAt: new Date(),
    });
    expect(again.outcome).toBe('duplicate');
    expect((await hub.reconcile(acme, 'ch_3')).outcome).toBe('duplicate');
    expect(rec.events.map((e) => [e.id, e.orderId])).toEqual([['acme-ping:ch_3:succeeded', 'A-3']]);
    // Not a charge id: no query, nothing found.
    expect((await hub.reconcile(acme, '..')).outcome).toBe('unhandled');
  });

  it('a notice that is not a payment reaches unhandled unverified, with no status query', async () => {
    const hub = createPaymentHub();
    const rec = recordHub(hub);
    down = true; // a query would fail: none is made
    const result = await hub.receive(provider(), {
      body: Buffer.from(ping('ch_1', 'charge.viewed').body),
      headers: {},
      transport: 'http',
      receivedAt: new Date(),
    });
    expect(result.outcome).toBe('unhandled');
    expect(rec.unhandled.map((u) => u.verified)).toEqual([false]);
  });
});
