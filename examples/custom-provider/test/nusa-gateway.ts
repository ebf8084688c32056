import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPaymentHub, type PaymentHub } from '@payhook/core';
import { recordHub, type HubRecording } from '@payhook/core/testing';
import type { createNusaProvider, NusaNotice, NusaRecord } from '../src';
import { signNusa } from '../src/nusa/signing';

/**
 * A stand-in for one of Nusa's status APIs (each environment has its own, with its own server
 * key and records): `GET /v2/{order_id}/status`, Basic auth, an outage switch, and the order ids
 * it was asked about. `baseUrl` is a closed port until `listen()`, so that a provider built when
 * the file loads (the conformance suite builds one then) points somewhere.
 */
export class NusaStatusApi {
  readonly records = new Map<string, NusaRecord>();
  readonly asked: string[] = [];
  down = false;
  baseUrl = 'http://127.0.0.1:1';
  private server: Server | undefined;

  constructor(private readonly serverKey: string) {}

  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      const orderId = decodeURIComponent(req.url!.replace(/^\/v2\/([^/]+)\/status$/, '$1'));
      this.asked.push(orderId);
      const record = this.records.get(orderId);
      const basic = `Basic ${Buffer.from(`${this.serverKey}:`).toString('base64')}`;
      const authorized = req.headers.authorization === basic;
      res.statusCode = this.down ? 503 : !authorized ? 401 : record ? 200 : 404;
      res.end(record && !this.down && authorized ? JSON.stringify(record) : '{}');
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Stores Nusa's record of an order: settled a minute ago, unless `fields` say otherwise. */
  record(orderId: string, fields: Partial<NusaRecord> = {}): NusaRecord {
    const r: NusaRecord = {
      transaction_id: `tx-${orderId}`,
      order_id: orderId,
      gross_amount: '150000.00',
      currency: 'IDR',
      transaction_status: 'settlement',
      transaction_time: jakarta(-5 * MINUTE),
      settlement_time: jakarta(-MINUTE),
      ...fields,
    };
    this.records.set(orderId, r);
    return r;
  }
}

export const MINUTE = 60_000;
export const DAY = 86_400_000;

/** A Jakarta wall time (UTC+7, no daylight saving) `ms` from now, as Nusa writes it. */
export const jakarta = (ms: number): string =>
  new Date(Math.floor((Date.now() + ms) / 1000) * 1000 + 7 * 3_600_000)
    .toISOString()
    .slice(0, 19)
    .replace('T', ' ');

/** The ISO 8601 time payhook makes of a Jakarta wall time. */
export const iso = (wall: string): string => `${wall.replace(' ', 'T')}+07:00`;

/** A notification as Nusa sends it for an order: settled, unless `over` says otherwise. */
export const notice = (orderId: string, over: Partial<NusaNotice>, key: string) =>
  signNusa(
    {
      order_id: orderId,
      status_code: '200',
      gross_amount: '150000.00',
      transaction_status: 'settlement',
      transaction_time: jakarta(-5 * MINUTE),
      ...over,
    },
    key,
  );

/** A hub with a recording, and a `post` that hands it a delivery as the HTTP adapter would. */
export function nusaHub(provider: ReturnType<typeof createNusaProvider>): {
  hub: PaymentHub;
  rec: HubRecording;
  post: (delivery: { body: string | Buffer }) => ReturnType<PaymentHub['receive']>;
} {
  const hub = createPaymentHub();
  const rec = recordHub(hub);
  const post = (delivery: { body: string | Buffer }) =>
    hub.receive(provider, {
      body: Buffer.from(delivery.body),
      headers: {},
      transport: 'http',
      receivedAt: new Date(),
    });
  return { hub, rec, post };
}
