import { verify as rsaVerify } from 'node:crypto';
import { createPaymentHub, type AnyPaymentProvider, type Delivery } from '@payhook/core';
import { hmacSha256Hex, md5Hex, timingSafeEqualHex } from '@payhook/core/plugin';
import { createTestProvider } from '@payhook/core/testing';
import { createSignedParamProvider } from '@payhook/signed-param';
import { createNewpayProvider } from '@payhook/newpay-callback';
import { createPayinProvider } from '@payhook/payin';
import { createBenchKeys, type RouteName, type Wire } from './lib/deliveries';
import { createSignPool } from './lib/sign-pool';
import { median } from './lib/stats';

/**
 * Micro: what `hub.receive` costs per delivery (CPU µs), in-process, beside its floor: the gateway's crypto
 * alone and JSON.parse of the body alone. Every delivery is distinct and validly signed, so each
 * receive goes verify → validate → normalize → claim → dispatch (one async listener) → commit on
 * the default memory store. Each pass uses a fresh hub; the first pass is a warm-up.
 */

export interface MicroOptions {
  count: number;
  passes: number;
}

export interface MicroRow {
  gateway: string;
  crypto: string;
  /** µs per delivery, medians over the passes. */
  receiveUs: number;
  verifyUs: number;
  cryptoUs: number;
  jsonParseUs: number;
  floorUs: number;
  /** receive minus the crypto: what payhook adds around the signature check. */
  overheadUs: number;
}

type Check = () => boolean;

export async function runMicro(options: MicroOptions): Promise<MicroRow[]> {
  const { secrets, signedParamPublicKey, newpayPublicKey } = createBenchKeys();
  const apiKey = secrets.payinApiKey;
  const pool = createSignPool(secrets);
  const gateways: Array<{
    route: RouteName;
    crypto: string;
    provider: AnyPaymentProvider;
    floor: (w: Wire) => Check;
  }> = [
    {
      route: 'signed-param',
      crypto: 'RSA-2048 verify',
      // PH: the country of the bench's notifications (channel PH_QRPH_DYNAMIC).
      provider: createSignedParamProvider({
        platformPublicKey: signedParamPublicKey,
        country: 'PH',
      }),
      floor: (w) => {
        const data = Buffer.from(w.signed);
        const sig = Buffer.from((JSON.parse(w.body) as { sign: string }).sign, 'base64');
        return () => rsaVerify('sha256', data, signedParamPublicKey, sig);
      },
    },
    {
      route: 'newpay',
      crypto: 'RSA-2048 verify',
      provider: createNewpayProvider({ platformPublicKey: newpayPublicKey, appId: 6 }),
      floor: (w) => {
        const data = Buffer.from(w.signed);
        const sig = Buffer.from((JSON.parse(w.body) as { sign: string }).sign, 'base64');
        return () => rsaVerify('sha256', data, newpayPublicKey, sig);
      },
    },
    {
      route: 'payin',
      crypto: 'MD5',
      provider: createPayinProvider({ merchantId: '100001', apiKey }),
      floor: (w) => {
        const body = Buffer.from(w.body);
        const key = Buffer.from(apiKey);
        const sign = w.headers.Sign!;
        return () => timingSafeEqualHex(md5Hex(body, key), sign);
      },
    },
    {
      // core's reference HMAC gateway: what the hub's own pipeline costs around a cheap check.
      route: 'test-gateway',
      crypto: 'HMAC-SHA256',
      provider: createTestProvider({ secret: secrets.octokitSecret }),
      floor: (w) => {
        const body = Buffer.from(w.body);
        const sign = w.headers['x-test-signature']!;
        return () => timingSafeEqualHex(hmacSha256Hex(secrets.octokitSecret, body), sign);
      },
    },
  ];

  const rows: MicroRow[] = [];
  try {
    for (const g of gateways) {
      const wires = await pool.make(g.route, `micro${g.route.length}`, options.count);
      const deliveries: Delivery[] = wires.map((w) => ({
        body: Buffer.from(w.body),
        headers: Object.fromEntries(
          Object.entries(w.headers).map(([k, v]) => [k.toLowerCase(), v]),
        ),
        transport: 'http',
        receivedAt: new Date(),
        method: 'POST',
        url: '/',
      }));
      const checks = wires.map(g.floor);
      const bodies = deliveries.map((d) => d.body);
      const receive: number[] = [];
      const verify: number[] = [];
      const crypto: number[] = [];
      const parse: number[] = [];
      // CPU time of this process, not wall time: on a machine whose cores other processes share,
      // wall time counts the time this process waited for a core (runs then varied by ±25 %).
      const perDelivery = (start: NodeJS.CpuUsage): number => {
        const used = process.cpuUsage(start);
        return (used.user + used.system) / deliveries.length;
      };
      for (let pass = 0; pass <= options.passes; pass++) {
        const hub = createPaymentHub();
        let dispatched = 0;
        hub.onAny(async () => {
          dispatched++;
        });
        let t = process.cpuUsage();
        for (const d of deliveries) await hub.receive(g.provider, d);
        const receiveUs = perDelivery(t);
        if (dispatched !== deliveries.length)
          throw new Error(`${g.route}: ${dispatched} of ${deliveries.length} dispatched`);
        t = process.cpuUsage();
        for (const d of deliveries) await g.provider.verify(d);
        const verifyUs = perDelivery(t);
        t = process.cpuUsage();
        for (const check of checks) if (!check()) throw new Error(`${g.route}: floor check failed`);
        const cryptoUs = perDelivery(t);
        t = process.cpuUsage();
        for (const b of bodies) JSON.parse(b.toString('utf8'));
        const parseUs = perDelivery(t);
        if (pass === 0) continue;
        receive.push(receiveUs);
        verify.push(verifyUs);
        crypto.push(cryptoUs);
        parse.push(parseUs);
      }
      const row: MicroRow = {
        gateway: g.route,
        crypto: g.crypto,
        receiveUs: median(receive),
        verifyUs: median(verify),
        cryptoUs: median(crypto),
        jsonParseUs: median(parse),
        floorUs: 0,
        overheadUs: 0,
      };
      row.floorUs = row.cryptoUs + row.jsonParseUs;
      row.overheadUs = row.receiveUs - row.cryptoUs;
      rows.push(row);
    }
  } finally {
    await pool.close();
  }
  return rows;
}

if (require.main === module) {
  const options = JSON.parse(process.argv[2] ?? '{"count":2000,"passes":3}') as MicroOptions;
  runMicro(options).then(
    (rows) => (process.send ? process.send({ rows }) : console.table(rows)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
