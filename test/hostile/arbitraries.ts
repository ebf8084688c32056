/**
 * fast-check generators of hostile deliveries: byte flips of a genuine delivery, and payloads a
 * parser must survive (arbitrary bytes, truncated or invalid UTF-8 JSON, deep nesting, huge
 * numbers, wrong types, prototype-pollution keys).
 */
import fc from 'fast-check';
import type { Wire } from './support';

export type Mutation =
  | { kind: 'body'; at: number; xor: number }
  | { kind: 'signature'; at: number; char: string }
  | { kind: 'header'; header: number; at: number; char: string };

/** Printable ASCII without space: any of these is a legal header byte and a legal JSON string byte. */
const PRINTABLE = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i));
const printable = fc.constantFrom(...PRINTABLE);

export function mutationArb(options: {
  signature: boolean;
  headers: number;
}): fc.Arbitrary<Mutation> {
  const arbs: Array<fc.Arbitrary<Mutation>> = [
    fc.record({
      kind: fc.constant('body' as const),
      at: fc.nat(),
      xor: fc.integer({ min: 1, max: 255 }),
    }),
  ];
  if (options.signature)
    arbs.push(
      fc.record({ kind: fc.constant('signature' as const), at: fc.nat(), char: printable }),
    );
  if (options.headers > 0)
    arbs.push(
      fc.record({
        kind: fc.constant('header' as const),
        header: fc.nat({ max: options.headers - 1 }),
        at: fc.nat(),
        char: printable,
      }),
    );
  return fc.oneof(...arbs);
}

const replaceAt = (text: string, index: number, char: string): string => {
  // A replacement equal to the original would be no mutation: take the next printable character.
  const next =
    text[index] === char ? PRINTABLE[(PRINTABLE.indexOf(char) + 1) % PRINTABLE.length]! : char;
  return text.slice(0, index) + next + text.slice(index + 1);
};

/**
 * Applies a mutation. `signatureOf` finds where the signature sits: a header name, or the exact
 * text inside the body. `mutableHeaders` are the headers the signature scheme depends on.
 */
export function applyMutation(
  wire: Wire,
  mutation: Mutation,
  signatureOf: { header: string } | { inBody: string } | null,
  mutableHeaders: string[],
): Wire {
  const body = Buffer.from(wire.body);
  switch (mutation.kind) {
    case 'body': {
      const at = mutation.at % body.length;
      body[at] = body[at]! ^ mutation.xor;
      return { body, headers: { ...wire.headers } };
    }
    case 'signature': {
      if (!signatureOf) throw new Error('no signature to mutate');
      if ('header' in signatureOf) {
        const value = wire.headers[signatureOf.header]!;
        return {
          body,
          headers: {
            ...wire.headers,
            [signatureOf.header]: replaceAt(value, mutation.at % value.length, mutation.char),
          },
        };
      }
      const text = body.toString('utf8');
      const start = text.indexOf(signatureOf.inBody);
      if (start < 0) throw new Error('signature not found in the body');
      const at = start + (mutation.at % signatureOf.inBody.length);
      return {
        body: Buffer.from(replaceAt(text, at, mutation.char), 'utf8'),
        headers: { ...wire.headers },
      };
    }
    case 'header': {
      const name = mutableHeaders[mutation.header]!;
      const value = wire.headers[name]!;
      return {
        body,
        headers: {
          ...wire.headers,
          [name]: replaceAt(value, mutation.at % value.length, mutation.char),
        },
      };
    }
  }
}

/** A payload as ordered [key, raw JSON value text] pairs, so hostile raw text can be spliced in. */
export type Fields = Array<[string, string]>;

export const fieldsText = (fields: Fields): string =>
  `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;

export const HUGE_NUMBERS = [
  '1e999999',
  '-1e999999',
  '1E+400',
  '123456789012345678901234567890123456789',
  '9007199254740993',
  '0.00000000000000000000000000000000000001',
  '-0',
  '1' + '0'.repeat(400),
  '1.7976931348623157e309',
  '-123456789012345678901234567890',
];

const PROTO_VALUES = [
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"a":{"__proto__":{"polluted":true}}}',
  '[{"__proto__":{"polluted":true}}]',
];

const deepText = fc
  .tuple(fc.integer({ min: 33, max: 20_000 }), fc.constantFrom('[', '{"a":'), fc.boolean())
  .map(([depth, open, closed]) => {
    const close = open === '[' ? ']' : '}';
    return open.repeat(depth) + '1' + (closed ? close.repeat(depth) : '');
  });

const wrongTypeValue = fc.oneof(
  fc.constant('null'),
  fc.constant('true'),
  fc.constant('false'),
  fc.constant('[]'),
  fc.constant('{}'),
  fc.json({ maxDepth: 2 }).filter((t) => t.startsWith('[') || t.startsWith('{')),
);

export type HostileKind =
  'bytes' | 'truncated' | 'invalid-utf8' | 'deep' | 'proto' | 'json' | 'wrong-type' | 'huge-number';

export interface HostilePayload {
  kind: HostileKind;
  text: Buffer;
  /** For huge-number: the field and the raw number text spliced in. */
  huge?: { field: string; value: string };
}

/**
 * Hostile variants of a payload. `required` are the fields that identify a payment (id, amount,
 * status): wrong types go there. `amountFields` receive huge numbers.
 */
export function hostilePayloadArb(
  fields: Fields,
  required: string[],
  amountFields: string[],
): fc.Arbitrary<HostilePayload> {
  return hostileArb(fields, required, amountFields).map(shortReport);
}

/** Counterexamples print as their kind and first bytes, not as a 100 KB byte array. */
export function shortReport(payload: HostilePayload): HostilePayload {
  return Object.assign(payload, {
    [fc.toStringMethod]: () =>
      `${payload.kind} (${payload.text.length} bytes): ${JSON.stringify(payload.text.toString('latin1').slice(0, 300))}`,
  });
}

function hostileArb(
  fields: Fields,
  required: string[],
  amountFields: string[],
): fc.Arbitrary<HostilePayload> {
  const valid = fieldsText(fields);
  const replace = (key: string, value: string): Fields =>
    fields.map(([k, v]) => [k, k === key ? value : v] as [string, string]);
  const buf = (text: string): Buffer => Buffer.from(text, 'utf8');
  return fc.oneof(
    fc
      .uint8Array({ maxLength: 600 })
      .map((bytes) => ({ kind: 'bytes' as const, text: Buffer.from(bytes) })),
    fc.integer({ min: 1, max: valid.length - 1 }).map((cut) => ({
      kind: 'truncated' as const,
      text: buf(valid.slice(0, cut)),
    })),
    fc
      .tuple(
        fc.constantFrom(...fields.map(([k]) => k)),
        fc.constantFrom(0xff, 0xc3, 0xed, 0x80, 0xf8),
      )
      .map(([key, byte]) => {
        // A lone or impossible UTF-8 byte inside a key's string: the bytes the signature covers
        // are not text, and must be refused rather than replaced with U+FFFD.
        const text = buf(fieldsText(replace(key, '"x@y"')));
        const at = text.indexOf('@');
        text[at] = byte;
        return { kind: 'invalid-utf8' as const, text };
      }),
    fc
      .tuple(deepText, fc.constantFrom(...fields.map(([k]) => k)), fc.boolean())
      .map(([deep, key, whole]) => ({
        kind: 'deep' as const,
        text: buf(whole ? deep : fieldsText(replace(key, deep))),
      })),
    fc
      .tuple(
        fc.constantFrom(...PROTO_VALUES),
        fc.constantFrom('__proto__', 'constructor', 'prototype', ...fields.map(([k]) => k)),
        fc.boolean(),
      )
      .map(([value, key, top]) => {
        const withKey: Fields = top
          ? [[key, value], ...fields.filter(([k]) => k !== key)]
          : replace(fields[0]![0], value);
        return { kind: 'proto' as const, text: buf(fieldsText(withKey)) };
      }),
    fc.json({ maxDepth: 4 }).map((text) => ({ kind: 'json' as const, text: buf(text) })),
    fc.tuple(fc.constantFrom(...required), wrongTypeValue).map(([key, value]) => ({
      kind: 'wrong-type' as const,
      text: buf(fieldsText(replace(key, value))),
    })),
    fc
      .tuple(fc.constantFrom(...amountFields), fc.constantFrom(...HUGE_NUMBERS), fc.boolean())
      .map(([field, value, quoted]) => ({
        kind: 'huge-number' as const,
        text: buf(fieldsText(replace(field, quoted ? JSON.stringify(value) : value))),
        huge: { field, value },
      })),
  );
}

/** Kinds that can never be a valid payment, whatever the gateway. */
export const STRUCTURAL: ReadonlySet<HostileKind> = new Set([
  'bytes',
  'truncated',
  'invalid-utf8',
  'deep',
  'proto',
  'wrong-type',
]);
