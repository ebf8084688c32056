import {
  createHmac,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { jsonNumber } from '@payhook/core/plugin';
import { sign as signTestGateway } from '@payhook/core/testing';
import { buildNotification } from '@payhook/signed-param/signing';
import { signV1Callback } from '@payhook/newpay-callback/signing';
import { buildCashyMessage } from '@payhook/payin/signing';

/**
 * Every delivery the benchmarks send, built with the plugins' own signing modules so that each one
 * is exactly what the gateway would POST. A serial makes each one a distinct payment (its own
 * idempotency key), so every request takes the whole path: verify, validate, claim, dispatch, commit.
 */

export const ROUTES = [
  'baseline',
  'signed-param',
  'newpay',
  'payin',
  'payin-redis',
  'payin-postgres',
  'pg-baseline',
  'test-gateway',
  'octokit',
] as const;
export type RouteName = (typeof ROUTES)[number];

/** Routes whose deliveries need an RSA-2048 signature (about a millisecond each to make). */
export const RSA_ROUTES: ReadonlySet<RouteName> = new Set(['signed-param', 'newpay']);

export interface Wire {
  body: string;
  headers: Record<string, string>;
  /** The exact text the signature covers (for the micro benchmark's crypto-only floor). */
  signed: string;
}

/** What the signing side holds (private keys as PEM so they cross worker and process boundaries). */
export interface SenderSecrets {
  signedParamPrivatePem: string;
  newpayPrivatePem: string;
  newpayAppId: number;
  payinMerchantId: string;
  payinApiKey: string;
  octokitSecret: string;
  /** Bytes every body is padded to, so that all routes carry the same load. */
  bodySize: number;
}

/** One run's keys: the senders' secrets, and the public keys the RSA providers check. */
export interface BenchKeys {
  secrets: SenderSecrets;
  signedParamPublicKey: KeyObject;
  newpayPublicKey: KeyObject;
}

/** Fresh RSA-2048 key pairs and random secrets, generated for each run (no key is checked in). */
export function createBenchKeys(): BenchKeys {
  const sp = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const np = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const secrets: SenderSecrets = {
    signedParamPrivatePem: sp.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    newpayPrivatePem: np.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    newpayAppId: 6,
    payinMerchantId: '100001',
    payinApiKey: randomBytes(16).toString('hex'),
    octokitSecret: randomBytes(16).toString('hex'),
    bodySize: 720,
  };
  return { secrets, signedParamPublicKey: sp.publicKey, newpayPublicKey: np.publicKey };
}

/** A fixed-width serial: every body of a route then has the same length. */
export const serialText = (tag: string, n: number): string => `${tag}${String(n).padStart(9, '0')}`;

export interface Builder {
  /** `n` spreads the gateway times: real deliveries do not all carry the same second. */
  build(route: RouteName, serial: string, n: number): Wire;
}

/**
 * Two hours before the run, whole seconds: the gateways refuse a signed time older than their
 * maxAgeMs (24 h), and the wall times below are read on clocks up to 8 h ahead of UTC, so every
 * time stays between about 1 h and 10 h old.
 */
const BASE_MS = Math.floor((Date.now() - 2 * 3_600_000) / 1000) * 1000;
const pad2 = (v: number): string => String(v).padStart(2, '0');
/** Gateway wall time `yyyy-MM-dd HH:mm:ss`, one second apart per delivery (within an hour). */
function wallTime(n: number, offsetSeconds = 0): string {
  const d = new Date(BASE_MS + ((n % 3_600) + offsetSeconds) * 1000);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

/**
 * Builds deliveries padded to `secrets.bodySize`. The pad length of each route is found once from
 * a first delivery (all of a route's bodies have the same length), so padding costs no extra
 * signature per delivery.
 */
export function createBuilder(secrets: SenderSecrets): Builder {
  const keys: Partial<Record<'sp' | 'np', KeyObject>> = {};
  const spKey = (): KeyObject => (keys.sp ??= createPrivateKey(secrets.signedParamPrivatePem));
  const npKey = (): KeyObject => (keys.np ??= createPrivateKey(secrets.newpayPrivatePem));

  const raw = (route: RouteName, serial: string, n: number, pad: string): Wire => {
    switch (route) {
      case 'baseline': {
        // The same JSON shape a merchant's own route would read with express.json().
        const body = JSON.stringify({ id: serial, status: 'COMPLETED', amount: 50010, pad });
        return { body, headers: { 'content-type': 'application/json' }, signed: body };
      }
      case 'signed-param': {
        // Shape of the dynamic-order "3.2.3 Payment Notification" example (docs.paycools.com/en/v2),
        // one distinct transaction per serial.
        const note = buildNotification(
          {
            eventName: 'order.payment.success',
            amount: 50010,
            channelCode: 'PH_QRPH_DYNAMIC',
            mchOrderId: `M${serial}`,
            createTime: wallTime(n, -120),
            remark: `bench ${pad}`,
            returnTime: wallTime(n),
            transactionId: `C${serial}`,
            transactionStatus: 'COMPLETED',
          },
          spKey(),
        );
        return { body: note.body, headers: note.headers, signed: note.param };
      }
      case 'newpay': {
        // v1 payment callback of pre-lnp-openapi.newpay.la/5-result-callback.html, one distinct
        // NewPay order per serial.
        const params = {
          orderNo: `O${serial}`,
          subject: `bench ${pad}`,
          transInfo: 'Transaction Success',
          orderAmt: '123.00',
          newpayOrderNo: `N${serial}`,
          settlementStatus: jsonNumber('1'),
          payMethod: jsonNumber('1'),
          extra: 'x',
          appId: jsonNumber(String(secrets.newpayAppId)),
          currency: 'LAK',
          transStatus: jsonNumber('0'),
          timestamp: jsonNumber(String(BASE_MS + (n % 3_600) * 1000)),
        };
        const d = signV1Callback(params, npKey());
        return { body: d.body, headers: d.headers, signed: '' };
      }
      case 'payin':
      case 'payin-redis':
      case 'payin-postgres':
      case 'pg-baseline': {
        // Field order of Cashy's payin page ("Webhook RequestBody"); payUrl is one of the members
        // Cashy sends and the schema allows.
        const m = buildCashyMessage(
          {
            orderStatus: 'SUCCESS',
            amount: jsonNumber('100.10'),
            fee: jsonNumber('1.5000'),
            mchOrderNo: `M${serial}`,
            merchantId: secrets.payinMerchantId,
            payDeskUrl: null,
            orderNo: `PAYIN${serial}`,
            payUrl: `https://pay.example/${pad}`,
            orderType: 'API',
            completionTime: wallTime(n),
            nonceStr: serial,
          },
          { merchantId: secrets.payinMerchantId, apiKey: secrets.payinApiKey },
        );
        return { body: m.body, headers: m.headers, signed: m.body };
      }
      case 'test-gateway': {
        // core's reference HMAC gateway (@payhook/core/testing): HMAC-SHA256 of the raw body, like
        // the octokit route below, with the same secret. `pad` is a member its schema allows.
        const body = JSON.stringify({
          event: 'payment',
          txn: `T${serial}`,
          order: `O${serial}`,
          amount: '500.10',
          status: 'PAID',
          at: `${wallTime(n).replace(' ', 'T')}+07:00`,
          pad,
        });
        return {
          body,
          headers: {
            'content-type': 'application/json',
            'x-test-signature': signTestGateway(body, secrets.octokitSecret),
          },
          signed: body,
        };
      }
      case 'octokit': {
        const body = JSON.stringify({
          ref: 'refs/heads/main',
          after: serial,
          repository: { id: 1, full_name: 'payhook/bench' },
          pad,
        });
        const signature = `sha256=${createHmac('sha256', secrets.octokitSecret).update(body).digest('hex')}`;
        return {
          body,
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'push',
            'x-github-delivery': serial,
            'x-hub-signature-256': signature,
          },
          signed: body,
        };
      }
    }
  };

  const padLength = new Map<RouteName, number>();
  return {
    build(route, serial, n) {
      let pad = padLength.get(route);
      let wire: Wire | undefined;
      if (pad === undefined) {
        wire = raw(route, serial, n, '');
        pad = Math.max(0, secrets.bodySize - Buffer.byteLength(wire.body));
        padLength.set(route, pad);
      }
      if (pad > 0 || !wire) wire = raw(route, serial, n, 'p'.repeat(pad));
      if (route === 'newpay') wire.signed = newpaySignString(wire.body);
      return wire;
    },
  };
}

/** NewPay's string1 for a flat v1 body: keys sorted, `k=v` joined by `&`, sign left out. */
function newpaySignString(body: string): string {
  const params = JSON.parse(body) as Record<string, unknown>;
  return Object.keys(params)
    .sort()
    .filter((k) => k !== 'sign')
    .map((k) => `${k}=${String(params[k])}`)
    .join('&');
}
