import { PayloadError } from './errors';

/**
 * Exact money arithmetic on decimal strings. Amounts never pass through a binary float: gateways
 * send cents, decimal strings or JSON numbers, and each is converted here by text and BigInt.
 */

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;
const INTEGER = /^-?\d+$/;

export interface MoneyOptions {
  source?: string;
  /** Field name for error messages. */
  field?: string;
}

/**
 * Integer minor units → decimal string in major units: (12345, 2) → "123.45", (500, 0) → "500".
 * Accepts a safe integer, a bigint or integer text.
 */
export function decimalFromMinorUnits(
  value: string | number | bigint,
  exponent: number,
  options: MoneyOptions = {},
): string {
  let text: string;
  if (typeof value === 'bigint') text = value.toString();
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw amountError(value, 'is not a whole number of minor units', options);
    text = String(value);
  } else {
    text = value.trim();
    if (!INTEGER.test(text))
      throw amountError(value, 'is not a whole number of minor units', options);
  }
  const negative = text.startsWith('-');
  let digits = (negative ? text.slice(1) : text).replace(/^0+(?=\d)/, '');
  if (exponent === 0) return (negative && digits !== '0' ? '-' : '') + digits;
  digits = digits.padStart(exponent + 1, '0');
  const result = `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return negative && /[1-9]/.test(digits) ? `-${result}` : result;
}

/**
 * Decimal text (or a JSON number) → canonical decimal string. With `scale`, the fraction is padded
 * to that many digits ("100.1" → "100.10"); more digits than the scale is an error, never a rounding.
 * A JS number is accepted only as its shortest round-trip text, which is exact for any amount a
 * gateway writes with up to 15 significant digits; use parseJson's `numbers: 'text'` for the rest.
 */
export function normalizeDecimal(
  value: string | number,
  options: MoneyOptions & { scale?: number } = {},
): string {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw amountError(value, 'is not a finite number', options);
    text = numberToPlainText(value, options);
  } else text = value.trim();
  const m = DECIMAL.exec(text);
  if (!m) throw amountError(value, 'is not a decimal amount', options);
  const sign = m[1] ?? '';
  const whole = (m[2] ?? '0').replace(/^0+(?=\d)/, '');
  let fraction = m[3] ?? '';
  if (options.scale !== undefined) {
    if (fraction.length > options.scale) {
      const extra = fraction.slice(options.scale);
      if (/[1-9]/.test(extra))
        throw amountError(value, `has more than ${options.scale} decimal places`, options);
      fraction = fraction.slice(0, options.scale);
    }
    fraction = fraction.padEnd(options.scale, '0');
  }
  const isZero = !/[1-9]/.test(whole + fraction);
  return (sign && !isZero ? '-' : '') + whole + (fraction ? `.${fraction}` : '');
}

/**
 * Decimal text in major units → integer minor units as text: ("500.1", 2) → "50010". Exact; more
 * decimal places than `exponent` is an error, never a rounding. The inverse of decimalFromMinorUnits.
 */
export function decimalToMinorUnits(
  amount: string | number,
  exponent: number,
  options: MoneyOptions = {},
): string {
  const decimal = normalizeDecimal(amount, { ...options, scale: exponent });
  return decimal.replace('.', '').replace(/^(-?)0+(?=\d)/, '$1');
}

/** Exact sum of two decimal strings: ("100.10", "0.5") → "100.60". */
export function addDecimal(a: string, b: string): string {
  const [ua, ub, scale] = toScaledIntegersWithScale(a, b);
  return decimalFromMinorUnits(ua + ub, scale);
}

/** Compares two decimal strings exactly: -1, 0 or 1. "100.1" equals "100.10". */
export function compareDecimal(a: string, b: string): -1 | 0 | 1 {
  const [ua, ub] = toScaledIntegers(a, b);
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

export function decimalEquals(a: string, b: string): boolean {
  return compareDecimal(a, b) === 0;
}

export function isDecimalString(value: unknown): value is string {
  return typeof value === 'string' && DECIMAL.test(value);
}

function toScaledIntegers(a: string, b: string): [bigint, bigint] {
  const [ua, ub] = toScaledIntegersWithScale(a, b);
  return [ua, ub];
}

function toScaledIntegersWithScale(a: string, b: string): [bigint, bigint, number] {
  const ma = DECIMAL.exec(a);
  const mb = DECIMAL.exec(b);
  if (!ma || !mb)
    throw new TypeError(`@payhook/core: "${a}" and "${b}" are not both decimal amounts`);
  const scale = Math.max(ma[3]?.length ?? 0, mb[3]?.length ?? 0);
  const scaled = (m: RegExpExecArray): bigint =>
    BigInt(`${m[1]}${m[2]}${(m[3] ?? '').padEnd(scale, '0')}`);
  return [scaled(ma), scaled(mb), scale];
}

function numberToPlainText(value: number, options: MoneyOptions): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  // 1e21 and 1e-7 style: only reachable for absurd amounts; refuse rather than guess.
  throw amountError(value, 'is out of range for an amount', options);
}

function amountError(value: unknown, problem: string, options: MoneyOptions): PayloadError {
  const field = options.field ?? 'amount';
  return new PayloadError(`${field} ${JSON.stringify(String(value)).slice(0, 40)} ${problem}`, {
    source: options.source,
    fields: [{ path: `/${field}`, message: problem }],
  });
}
