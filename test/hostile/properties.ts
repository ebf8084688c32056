/**
 * The two properties every HTTP gateway must hold, run through its real middleware on a listening
 * server: (1) a genuine delivery with one byte of its body, signature or a signed header changed is
 * refused (401, or 400 when the change broke the JSON itself) and emits nothing; (2) hostile payloads
 * are answered 4xx (or acknowledged as "not a payment" when authentic and well-formed), never 5xx,
 * never crash the process, never emit an event, and never touch the idempotency store.
 */
import fc from 'fast-check';
import { validatePaymentEvent } from '@payhook/core/plugin';
import {
  applyMutation,
  hostilePayloadArb,
  mutationArb,
  STRUCTURAL,
  type Fields,
  type HostilePayload,
} from './arbitraries';
import { post, type Gateway, type Wire } from './support';

export const RUNS = 1_000;

export interface MutationSpec {
  genuine: Wire;
  /** Where the signature is: a header, the exact text in the body, or nowhere (unsigned gateway). */
  signature: { header: string } | { inBody: string } | null;
  /** Other headers the verification depends on (Cashy's MerchantId). */
  signedHeaders?: string[];
  /**
   * The oracle, written independently of the gateway code: is the mutated delivery still the
   * genuine one (same signed content, signature that decodes to the same bytes)? Such a delivery
   * may be accepted or refused; every other one must be refused and emit nothing.
   */
  stillGenuine(mutated: Wire): boolean;
  /** Whether the mutated body is still parseable as the envelope (else 400 is the right answer). */
  envelopeParses(mutated: Wire): boolean;
  /** The statuses a forged delivery may get when the envelope parses (default [401]). */
  forgedStatuses?: number[];
  /** Refused deliveries must not reach the store (false for gateways that check a status API first). */
  storeUntouched?: boolean;
}

const objectPrototypeKeys = (): string[] => Object.getOwnPropertyNames(Object.prototype).sort();

export async function checkMutations(
  gw: Gateway,
  spec: MutationSpec,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const protoBefore = objectPrototypeKeys();
  // The baseline: the unmutated delivery is accepted and emits its one event.
  const eventsAtStart = gw.rec.events.length;
  const baseline = await post(gw.url, spec.genuine);
  expect([baseline.status, baseline.body]).toEqual([gw.ok.status, gw.ok.body]);
  expect(gw.rec.events).toHaveLength(eventsAtStart + 1);
  const claimsBefore = gw.store.calls.claim;
  let genuineClaims = 0;
  await fc.assert(
    fc.asyncProperty(
      mutationArb({
        signature: spec.signature !== null,
        headers: spec.signedHeaders?.length ?? 0,
      }),
      async (mutation) => {
        const mutated = applyMutation(
          spec.genuine,
          mutation,
          spec.signature,
          spec.signedHeaders ?? [],
        );
        const eventsBefore = gw.rec.events.length;
        const claims = gw.store.calls.claim;
        const reply = await post(gw.url, mutated);
        const genuine = spec.stillGenuine(mutated);
        const key = `${mutation.kind}:${genuine ? 'genuine' : reply.status}`;
        counts[key] = (counts[key] ?? 0) + 1;
        expect(reply.status).toBeLessThan(500);
        if (genuine) {
          // e.g. Base64 padding bits or hex case: the same signature bytes over the same content,
          // or (NewPay v2) a change in the unsigned envelope, which its schema may refuse.
          expect([200, 400, 401]).toContain(reply.status);
          expect(gw.rec.events.length).toBe(eventsBefore);
          genuineClaims += gw.store.calls.claim - claims;
          return;
        }
        const allowed = spec.envelopeParses(mutated) ? (spec.forgedStatuses ?? [401]) : [400, 401];
        expect(allowed).toContain(reply.status);
        expect(reply.body).not.toBe(gw.ok.body);
        expect(gw.rec.events.length).toBe(eventsBefore);
        if (spec.storeUntouched !== false) expect(gw.store.calls.claim).toBe(claims);
      },
    ),
    { numRuns: RUNS },
  );
  // Only the genuine payment was ever emitted, once.
  expect(gw.rec.events).toHaveLength(eventsAtStart + 1);
  if (spec.storeUntouched !== false)
    expect(gw.store.calls.claim - claimsBefore).toBe(genuineClaims);
  expect(objectPrototypeKeys()).toEqual(protoBefore);
  expect(gw.rec.errors.every((e) => e.statusCode < 500)).toBe(true);
  return counts;
}

export interface HostileSpec {
  fields: Fields;
  required: string[];
  amountFields: string[];
  /** Turns a hostile payload into a delivery: signed (cheap schemes), unsigned, or wrapped. */
  wire(payload: HostilePayload, index: number): Wire;
  /**
   * Whether this hostile payload reaches the gateway authenticated (so a well-formed one may be a
   * real payment); unsigned garbage at a signed gateway must be refused whatever it holds.
   */
  authentic: boolean;
  /** Statuses allowed for a structural payload (default 400, or 413 when over the limit). */
  structuralStatuses?: number[];
  /** Replaces the default generator (e.g. a pool of payloads signed once, in varied envelopes). */
  arb?: fc.Arbitrary<HostilePayload>;
}

export async function checkHostile(
  gw: Gateway,
  spec: HostileSpec,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const protoBefore = objectPrototypeKeys();
  let index = 0;
  await fc.assert(
    fc.asyncProperty(
      spec.arb ?? hostilePayloadArb(spec.fields, spec.required, spec.amountFields),
      async (payload) => {
        const wire = spec.wire(payload, index++);
        const eventsBefore = gw.rec.events.length;
        const claims = gw.store.calls.claim;
        const errors = gw.rec.errors.length;
        const duplicates = gw.rec.duplicates.length;
        const reply = await post(gw.url, wire);
        const key = `${payload.kind}:${reply.status}`;
        counts[key] = (counts[key] ?? 0) + 1;
        // Never a 5xx: that would be the gateway's retry answer for input that can never succeed.
        expect(reply.status).toBeLessThan(500);
        expect(reply.body).not.toBe(gw.retry.body);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        const newEvents = gw.rec.events.slice(eventsBefore);
        if (STRUCTURAL.has(payload.kind) || !spec.authentic) {
          // 413: a deep nesting larger than the body limit is refused before it is parsed.
          expect(spec.structuralStatuses ?? [400, 413]).toContain(reply.status);
          expect(newEvents).toEqual([]);
          expect(gw.store.calls.claim).toBe(claims);
          expect(gw.rec.errors.length).toBe(errors + 1);
          return;
        }
        if (payload.kind === 'json') {
          // Arbitrary well-formed JSON, authentic: refused, or acknowledged as not a payment.
          expect(newEvents).toEqual([]);
          expect(gw.store.calls.claim).toBe(claims);
          expect(reply.status === 200 || (reply.status >= 400 && reply.status < 500)).toBe(true);
          return;
        }
        // huge-number, authentic: refused, or processed with the exact amount (never a float).
        if (reply.status === 200 && newEvents.length === 0) {
          // The same transaction was already processed with this amount: a duplicate, acknowledged.
          expect(gw.rec.duplicates.length).toBeGreaterThan(duplicates);
        } else if (reply.status === 200) {
          const digits = (s: string): string =>
            s.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
          for (const event of newEvents) {
            expect(validatePaymentEvent(event)).toBe(true);
            // The number is somewhere in the event (amount, or a detail such as a fee) digit for digit.
            const numbers =
              JSON.stringify({ ...event, raw: undefined }).match(/\d+(\.\d+)?/g) ?? [];
            expect(numbers.map(digits)).toContain(digits(payload.huge!.value));
          }
        } else {
          expect(reply.status).toBeGreaterThanOrEqual(400);
          expect(newEvents).toEqual([]);
        }
      },
    ),
    { numRuns: RUNS },
  );
  expect(objectPrototypeKeys()).toEqual(protoBefore);
  return counts;
}

/** Decodes a Base64 signature the way any strict verifier reads it; null when it is not Base64. */
export function base64Bytes(value: unknown): Buffer | null {
  if (typeof value !== 'string') return null;
  const compact = value.replace(/\s+/g, '');
  if (compact.length === 0 || !/^[A-Za-z0-9+/\-_]+={0,2}$/.test(compact)) return null;
  return Buffer.from(compact, 'base64');
}

export function parseOrNull(body: string | Buffer): unknown {
  try {
    const text = Buffer.isBuffer(body)
      ? new TextDecoder('utf-8', { fatal: true }).decode(body)
      : body;
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
