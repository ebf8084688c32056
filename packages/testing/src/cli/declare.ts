import type { GatewayDelivery } from '../delivery';
import type { CliIo } from './io';

/**
 * What a gateway's fixture module declares for `payhook send`: its options, its events and how
 * each builds its delivery. The CLI's gateway table, option parsing, dispatch and help text are
 * all derived from these declarations (see gateways.ts): a new gateway is one more declaration.
 * A plugin's own fixtures module exports one (made with defineSendGateway, exported by
 * @payhook/testing) and `payhook send --fixtures <module>` adds it to the table for that run.
 */

/** A gateway-specific flag, as parseArgs takes it, with its help. */
export interface SendOption {
  type: 'string' | 'boolean';
  /** Shown after the flag in the help: `<file>`. */
  value?: string;
  /** One help line (or a few, joined by "\n"). */
  help: string;
}

/** What a command line gives a declaration to build from. */
export interface SendInput {
  event: string;
  /** `--order`, or a new one. */
  order: string;
  /** `--amount` as typed, unchecked: the gateway knows its currency's scale. */
  amount: string | undefined;
  /** `--transaction` as typed. */
  transaction: string | undefined;
  timeoutMs: number;
  io: Pick<CliIo, 'env' | 'cwd'>;
  /** A string option of this gateway (`--app-id`). */
  text(flag: string): string | undefined;
  /** A boolean option of this gateway (`--v2`). */
  flag(flag: string): boolean;
}

/** Something to say about the delivery beyond its description, in text and in --json. */
export interface SendNote {
  text: string;
  json: Record<string, unknown>;
}

/** What an event produced. */
export interface Sent {
  /** `gateway` is the declaration's name; `successAck` decides the exit code (0 or 1). */
  delivery: GatewayDelivery<string>;
  notes?: SendNote[];
  /**
   * Set when the delivery reached nobody by another channel (a simulator's socket with no app):
   * without `--url`, the line printed and exit 1.
   */
  unheard?: string;
}

export interface SendEvent<C> {
  /** One line for the help text. */
  summary: string;
  build(context: C, input: SendInput): Sent | Promise<Sent>;
}

export interface SendGateway<C = unknown> {
  /** `payhook send <gateway>`: lower-case letters, digits and dashes. */
  gateway: string;
  /**
   * The package the builders need, checked before any option is read: without it, no option can
   * help. A plugin's fixtures module may leave it out (it imports its plugin itself); given, it is
   * resolved from the module's directory and, when absent, the error says `npm install -D` it.
   */
  plugin?: string;
  /** One line for the help text: what the deliveries are and how they are authenticated. */
  summary: string;
  /** `--amount` for this gateway: the scale and the defaults. */
  amountHelp: string;
  /** `--transaction` for this gateway: whose id it is. */
  transactionHelp: string;
  /** Its own flags (`--secret`); another gateway's flag may be reused with the same type. */
  options: Record<string, SendOption>;
  /**
   * Checks the options every event uses (keys, ids, amount) once. A bad option: throw a
   * ConfigError of @payhook/core (exit 2, its message printed); anything else is a crash.
   */
  setup(input: SendInput): C;
  events: Record<string, SendEvent<C>>;
  /** `--url` may be left out (the delivery goes another way); default never. */
  urlOptional?(input: SendInput): boolean;
}

/**
 * Typed identity: ties the events' context to what `setup` returns. A plain object of this shape
 * (from JavaScript) is as good: `payhook send --fixtures` checks the shape, not the origin.
 */
export function defineSendGateway<C>(gateway: SendGateway<C>): SendGateway<C> {
  return gateway;
}

/**
 * The `payment` and `failed` events every gateway has: the same builder with the outcome as its
 * argument.
 */
export function outcomeEvents<C>(
  what: string,
  build: (context: C, input: SendInput, status: 'success' | 'failed') => Sent | Promise<Sent>,
): { payment: SendEvent<C>; failed: SendEvent<C> } {
  return {
    payment: { summary: `${what}: paid`, build: (c, input) => build(c, input, 'success') },
    failed: { summary: `${what}: failed`, build: (c, input) => build(c, input, 'failed') },
  };
}
