/**
 * NewPay: `sign` inside the parameters (v1) or inside `data` (v2), SHA256withRSA over the sorted
 * `k=v` string (NewPay "8. Signature and verification"). Signed once and mutated. Hostile parameter
 * sets that reach the code behind the signature come from a pool signed once in beforeAll, each
 * sent with its members in varied order (the sign string sorts them, so the signature still holds).
 */
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { jsonNumber, parseJson, stringifyJson, type JsonValue } from '@payhook/core/plugin';
import {
  signNewpayParams,
  signV1Callback,
  signV2Callback,
  type SignParams,
} from '@payhook/newpay-callback/signing';
import { hostilePayloadArb, shortReport, type Fields, type HostilePayload } from './arbitraries';
import { base64Bytes, checkHostile, checkMutations, parseOrNull, RUNS } from './properties';
import {
  agent,
  keys,
  newpayPayment,
  newpayV2Payment,
  startGateway,
  type Gateway,
  type Wire,
} from './support';
import { reportCounts } from '@payhook/core/testing';

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway('newpay');
});
afterAll(async () => {
  await gw.close();
  agent.destroy();
});

/**
 * NewPay signs a time (v1 `timestamp`, v2 `data.paytime`) and refuses one older than maxAgeMs
 * (24 h): the callbacks here carry the current time, so that what reaches the code behind the
 * signature is the mutation, not the age.
 */
const now = () => jsonNumber(String(Date.now()));
const v1Params = (n: number): SignParams => ({ ...newpayPayment(n), timestamp: now() });
const genuineV1 = (n: number): Wire => signV1Callback(v1Params(n), keys.newpay.privateKey);
const genuineV2 = (n: number): Wire =>
  signV2Callback({ ...newpayV2Payment(n), paytime: now() }, keys.newpay.privateKey, {
    timestamp: now(),
  });

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** The signed parameters: `data` in v2, the body itself in v1. */
const signedPart = (body: unknown): Obj | undefined =>
  isObj(body) ? (isObj(body.data) ? body.data : body) : undefined;
const withoutSign = (o: Obj): Obj =>
  Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'sign'));

function mutationSpec(original: Wire) {
  const signed = signedPart(JSON.parse(original.body as string))!;
  const sign = signed.sign as string;
  return {
    genuine: original,
    signature: { inBody: sign },
    // v2's envelope (success, message, code, timestamp) is outside the signature by NewPay's
    // design: a change there leaves the signed parameters, and so the payment, unchanged.
    stillGenuine: (m: Wire) => {
      const part = signedPart(parseOrNull(m.body));
      const bytes = base64Bytes(part?.sign);
      return (
        part !== undefined &&
        isDeepStrictEqual(withoutSign(part), withoutSign(signed)) &&
        bytes !== null &&
        bytes.equals(Buffer.from(sign, 'base64'))
      );
    },
    envelopeParses: (m: Wire) => isObj(parseOrNull(m.body)),
  };
}

it(`${RUNS} mutated signed v1 callbacks (body byte, sign byte) are refused and emit nothing`, async () => {
  const counts = await checkMutations(gw, mutationSpec(genuineV1(2)));
  reportCounts('newpay v1 mutations', counts);
});

it(`${RUNS} mutated signed v2 callbacks (body byte, sign byte) are refused and emit nothing`, async () => {
  const counts = await checkMutations(gw, mutationSpec(genuineV2(3)));
  reportCounts('newpay v2 mutations', counts);
});

const signedFields = v1Params(9);
const fields = (): Fields =>
  Object.entries(signedFields).map(([k, v]) => [k, stringifyJson(v as JsonValue)]);

it(`${RUNS} hostile bodies with the genuine sign are 4xx, never 5xx, never an event`, async () => {
  const sign = signNewpayParams(signedFields, keys.newpay.privateKey);
  const counts = await checkHostile(gw, {
    fields: [...fields(), ['sign', JSON.stringify(sign)]],
    required: ['newpayOrderNo', 'orderAmt', 'transStatus', 'appId', 'sign'],
    amountFields: ['orderAmt', 'timestamp'],
    authentic: false,
    structuralStatuses: [400, 401, 413],
    wire: (p) => ({ body: p.text, headers: {} }),
  });
  reportCounts('newpay hostile unsigned', counts);
});

it(`${RUNS} hostile parameters signed with the platform key are 4xx (or unhandled), never 5xx`, async () => {
  const pool = fc
    .sample(
      hostilePayloadArb(
        fields(),
        ['newpayOrderNo', 'orderAmt', 'transStatus', 'appId', 'orderNo'],
        ['orderAmt', 'timestamp'],
      ),
      { numRuns: 300, seed: 7 },
    )
    .map((payload) => {
      // Only a parameter set that parses can carry a signature; the others are sent as they are.
      let tagged: unknown;
      try {
        tagged = parseJson(payload.text, { numbers: 'json-number' });
      } catch {
        return { payload, members: null };
      }
      if (!isObj(tagged)) return { payload, members: null };
      const sign = signNewpayParams(tagged as SignParams, keys.newpay.privateKey);
      const members = Object.entries(tagged).map(
        ([k, v]) => `${JSON.stringify(k)}:${stringifyJson(v as JsonValue)}`,
      );
      members.push(`"sign":${JSON.stringify(sign)}`);
      return { payload, members };
    });
  const signedCount = pool.filter((e) => e.members).length;
  const arb = fc
    .record({ entry: fc.constantFrom(...pool), rotate: fc.nat(), reverse: fc.boolean() })
    .map(({ entry, rotate, reverse }) => {
      if (!entry.members) return entry.payload;
      const m = [...entry.members];
      const r = rotate % m.length;
      const ordered = [...m.slice(r), ...m.slice(0, r)];
      if (reverse) ordered.reverse();
      return shortReport({
        ...entry.payload,
        text: Buffer.from(`{${ordered.join(',')}}`, 'utf8'),
      } as HostilePayload);
    });
  const counts = await checkHostile(gw, {
    fields: fields(),
    required: [],
    amountFields: [],
    authentic: true,
    // 401: a signed set whose appId is not ours (or not a scalar) is refused as another sender's.
    structuralStatuses: [400, 401, 413],
    arb,
    wire: (p) => ({ body: p.text, headers: {} }),
  });
  reportCounts(
    `newpay hostile signed (${signedCount} of ${pool.length} pool entries signed)`,
    counts,
  );
});
