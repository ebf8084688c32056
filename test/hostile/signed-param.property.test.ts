/**
 * signed-param: `{"sign": "...", "param": "<JSON text>"}`, SHA256withRSA over param
 * (https://docs.paycools.com/en/v2/common/UnifiedAPIParam.html). The delivery is signed once and
 * mutated. Hostile params that reach the code behind the signature come from a pool signed once in
 * beforeAll (RSA signing per case would dominate the run), each sent in many envelopes (key order,
 * whitespace, extra members) that the signature does not cover.
 */
import fc from 'fast-check';
import { instantToIso } from '@payhook/core/plugin';
import { buildNotification, signParam } from '@payhook/signed-param/signing';
import { hostilePayloadArb, shortReport, type Fields, type HostilePayload } from './arbitraries';
import { base64Bytes, checkHostile, checkMutations, parseOrNull, RUNS } from './properties';
import { agent, keys, signedParamPayment, startGateway, type Gateway } from './support';
import { serializeParam } from '@payhook/signed-param/signing';
import { reportCounts } from '@payhook/core/testing';

/** `yyyy-MM-dd HH:mm:ss` on the Manila clock the PH_ channel of these params is read on. */
const manilaWallTime = (agoMs: number): string =>
  instantToIso(Math.floor((Date.now() - agoMs) / 1000) * 1000, 'Asia/Manila')
    .slice(0, 19)
    .replace('T', ' ');

/**
 * Payment `n` signed with fresh times: the signed returnTime bounds a delivery's age (24 h by
 * default), so the fixed example times of the shared payment would make every genuine delivery
 * stale.
 */
const freshPayment = (n: number): Record<string, unknown> => ({
  ...signedParamPayment(n),
  createTime: manilaWallTime(120_000),
  returnTime: manilaWallTime(60_000),
});
const genuine = (n: number) => buildNotification(freshPayment(n), keys.signedParam.privateKey);

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway('signed-param');
});
afterAll(async () => {
  await gw.close();
  agent.destroy();
});

const POOL = 200;

it(`${RUNS} mutated signed deliveries (body byte, sign byte) are refused and emit nothing`, async () => {
  const original = genuine(1);
  const outer = JSON.parse(original.body as string) as { sign: string; param: string };
  const counts = await checkMutations(gw, {
    genuine: original,
    signature: { inBody: outer.sign },
    stillGenuine: (m) => {
      const parsed = parseOrNull(m.body) as { sign?: unknown; param?: unknown } | undefined;
      const bytes = base64Bytes(parsed?.sign);
      return (
        typeof parsed === 'object' &&
        parsed !== null &&
        parsed.param === outer.param &&
        bytes !== null &&
        bytes.equals(Buffer.from(outer.sign, 'base64'))
      );
    },
    // The envelope is parsed before the signature is checked: a flip that breaks the JSON or
    // the name "param" is a 400; every other one is a 401.
    envelopeParses: (m) => {
      const parsed = parseOrNull(m.body) as { param?: unknown } | undefined;
      return typeof parsed === 'object' && parsed !== null && typeof parsed.param === 'string';
    },
  });
  reportCounts('signed-param mutations', counts);
});

const paramFields = (): Fields => {
  const text = serializeParam(freshPayment(9));
  return Object.entries(JSON.parse(text) as Record<string, unknown>).map(([k, v]) => [
    k,
    JSON.stringify(v),
  ]);
};

it(`${RUNS} hostile bodies (unsigned outer envelope) are 4xx, never 5xx, never an event`, async () => {
  const envelope = JSON.parse(genuine(9).body) as { sign: string; param: string };
  const counts = await checkHostile(gw, {
    fields: [
      ['sign', JSON.stringify(envelope.sign)],
      ['param', JSON.stringify(envelope.param)],
    ],
    required: ['sign', 'param'],
    amountFields: ['param'],
    authentic: false,
    structuralStatuses: [400, 401, 413],
    wire: (p) => ({ body: p.text, headers: {} }),
  });
  reportCounts('signed-param hostile envelope', counts);
});

it(`${RUNS} hostile params signed with the platform key are 4xx (or unhandled), never 5xx`, async () => {
  // The pool: hostile params drawn once with a fixed seed and signed once each.
  const pool = fc
    .sample(
      hostilePayloadArb(
        paramFields(),
        ['eventName', 'transactionId', 'amount', 'transactionStatus'],
        ['amount'],
      ),
      {
        numRuns: POOL,
        seed: 42,
      },
    )
    // param is text inside JSON: invalid UTF-8 cannot be in it (the envelope test sends that).
    .filter((p) => p.kind !== 'invalid-utf8')
    .map((p) => {
      const param = p.text.toString('utf8');
      return { payload: p, param, sign: signParam(param, keys.signedParam.privateKey) };
    });
  const envelope = fc.record({
    entry: fc.constantFrom(...pool),
    signFirst: fc.boolean(),
    space: fc.constantFrom('', ' ', '\n    '),
    extra: fc.constantFrom('', '"appId":"A1"', '"extra":{"a":[1,2]}', '"n":1e999'),
  });
  const arb = envelope.map(({ entry, signFirst, space, extra }) => {
    const members = [
      `"sign":${space}${JSON.stringify(entry.sign)}`,
      `"param":${space}${JSON.stringify(entry.param)}`,
    ];
    if (!signFirst) members.reverse();
    if (extra) members.push(extra);
    const text = Buffer.from(`{${space}${members.join(`,${space}`)}${space}}`, 'utf8');
    return shortReport({ ...entry.payload, text } as HostilePayload);
  });
  const counts = await checkHostile(gw, {
    fields: paramFields(),
    required: [],
    amountFields: [],
    authentic: true,
    arb,
    wire: (p) => ({ body: p.text, headers: {} }),
  });
  reportCounts('signed-param hostile signed params', counts);
});
