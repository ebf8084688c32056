import { readFileSync } from 'node:fs';
import path from 'node:path';
import { testKeyPairFrom, type TestKeyPair } from '../keys';
import { about, given } from './args';
import type { SendInput, SendOption } from './declare';
import { UsageError } from './errors';

/** `--key`, the option of every RSA-signed gateway. */
export const KEY_OPTION: SendOption = {
  type: 'string',
  value: '<file>',
  help: `the gateway's private key (PEM or Base64 DER), e.g. from "payhook keys"; env PAYHOOK_PRIVATE_KEY (a file path)`,
};

/** The gateway's private key from `--key` or PAYHOOK_PRIVATE_KEY; errors name which one. */
export function readKey(input: SendInput, gateway: string): TestKeyPair {
  const key = given('--key', input.text('key'), 'PAYHOOK_PRIVATE_KEY', input.io);
  const keyFile = key.value;
  if (!keyFile)
    throw new UsageError(
      `${gateway} deliveries are signed with the gateway's RSA private key: give --key <file> ` +
        `(or PAYHOOK_PRIVATE_KEY); "payhook keys" writes a test pair`,
    );
  let text: string;
  try {
    text = readFileSync(path.resolve(input.io.cwd, keyFile), 'utf8');
  } catch (error) {
    throw new UsageError(
      `${key.name} ${keyFile}: cannot read the key file (${(error as NodeJS.ErrnoException).code})`,
    );
  }
  return about(`${key.name} ${keyFile}`, () => testKeyPairFrom(text));
}

const DECIMAL = /^\d+(\.\d+)?$/;

/**
 * `--amount` as decimal major units with at most `places` decimals, the currency's minor units:
 * the gateway writes integer minor units (or a fixed scale), so more would not be an amount.
 */
export function checkAmount(
  amount: string | undefined,
  currency: { code: string; places?: number },
): string | undefined {
  if (amount === undefined) return undefined;
  if (!DECIMAL.test(amount)) throw new UsageError(`--amount "${amount}" is not a decimal amount`);
  const decimals = (amount.split('.')[1] ?? '').replace(/0+$/, '').length;
  const places = currency.places;
  if (places !== undefined && decimals > places)
    throw new UsageError(
      places === 0
        ? `--amount "${amount}" has decimals, but ${currency.code} has no minor unit: give a whole amount`
        : `--amount "${amount}" has more than ${places} decimal places, the most ${currency.code} has`,
    );
  return amount;
}
