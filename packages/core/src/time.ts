import { PayloadError, ProviderConfigError } from './errors';

/**
 * Gateway clocks write local wall time with no offset ("2025-09-23 11:37:55"). Every time payhook
 * emits is ISO 8601 with the zone's explicit offset, computed with Intl for the configured IANA zone.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws a ProviderConfigError naming the option when `timeZone` is not an IANA zone this runtime knows. */
export function assertTimeZone(timeZone: unknown, option = 'timeZone', source?: string): string {
  if (typeof timeZone !== 'string' || timeZone.length === 0) {
    throw new ProviderConfigError(
      option,
      'must be an IANA time zone name such as "Asia/Vientiane"',
      {
        source,
      },
    );
  }
  try {
    formatterFor(timeZone);
  } catch (cause) {
    throw new ProviderConfigError(option, `names an unknown time zone "${timeZone}"`, {
      source,
      cause,
    });
  }
  return timeZone;
}

/** What the en-US, h23, all-numeric formatter writes: `M/D/YYYY, HH:MM:SS`. */
const FORMATTED = /^(\d{1,2})\/(\d{1,2})\/(\d+),? (\d{2}):(\d{2}):(\d{2})$/;

const QUARTER_HOUR = 15 * 60_000;
/**
 * Per zone, bucket number → offset. A map per zone keyed by the bucket number, not one map keyed by
 * a `${zone}|${bucket}` string: building and hashing that string on every lookup was most of a
 * cache hit (parseGatewayTime makes two lookups per gateway time). With the arithmetic in wall(),
 * parseGatewayTime of a `yyyy-MM-dd HH:mm:ss` in Asia/Jakarta went from 3.5 to 1.5 µs CPU (medians
 * of 6 × 100,000 calls, old and new build alternating in one process, same outputs).
 */
const offsetCache = new Map<string, Map<number, number>>();
let offsetsCached = 0;

/**
 * Offset of `timeZone` at the UTC instant `utcMs`, in minutes east of UTC. Cached per zone and
 * UTC quarter hour: modern offset changes fall on quarter-hour boundaries, and a bucket is cached
 * only when both of its ends agree, so a bucket holding a change is always computed exactly.
 */
export function zoneOffsetMinutes(timeZone: string, utcMs: number): number {
  const bucket = Math.floor(utcMs / QUARTER_HOUR);
  let zone = offsetCache.get(timeZone);
  const cached = zone?.get(bucket);
  if (cached !== undefined) return cached;
  const offset = computeOffsetMinutes(timeZone, utcMs);
  const start = bucket * QUARTER_HOUR;
  if (
    computeOffsetMinutes(timeZone, start) === offset &&
    computeOffsetMinutes(timeZone, start + QUARTER_HOUR - 1000) === offset
  ) {
    if (offsetsCached >= 10_000) {
      offsetCache.clear();
      offsetsCached = 0;
      zone = undefined;
    }
    if (!zone) offsetCache.set(timeZone, (zone = new Map()));
    zone.set(bucket, offset);
    offsetsCached++;
  }
  return offset;
}

function computeOffsetMinutes(timeZone: string, utcMs: number): number {
  const formatter = formatterFor(timeZone);
  const date = new Date(utcMs);
  // format() costs about a third of formatToParts() (an object per part): it runs for every time a
  // delivery carries. Any output not in the expected shape falls back to the parts.
  const m = FORMATTED.exec(formatter.format(date));
  const asUtc = m
    ? Date.UTC(+m[3]!, +m[1]! - 1, +m[2]!, +m[4]!, +m[5]!, +m[6]!)
    : utcFromParts(formatter.formatToParts(date));
  return Math.round((asUtc - Math.floor(utcMs / 1000) * 1000) / 60000);
}

function utcFromParts(parts: Intl.DateTimeFormatPart[]): number {
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

const pad = (n: number, w = 2): string =>
  w === 2 && n >= 0 && n < 100 ? (n < 10 ? '0' : '') + n : String(n).padStart(w, '0');

export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Wall-clock time in `timeZone` → ISO 8601 with that zone's offset at that moment. */
export function wallTimeToIso(t: WallTime, timeZone: string): string {
  const guess = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  let offset = zoneOffsetMinutes(timeZone, guess);
  const second = zoneOffsetMinutes(timeZone, guess - offset * 60000);
  if (second !== offset) offset = second;
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}${formatOffset(offset)}`;
}

/** A UTC instant → ISO 8601 in `timeZone`, e.g. epoch ms from a gateway → "2025-01-02T10:00:00+07:00". */
export function instantToIso(utcMs: number, timeZone: string): string {
  const offset = zoneOffsetMinutes(timeZone, utcMs);
  const local = new Date(Math.floor(utcMs / 1000) * 1000 + offset * 60000);
  const ms = utcMs % 1000;
  return (
    `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}` +
    (ms ? `.${pad(ms, 3)}` : '') +
    formatOffset(offset)
  );
}

const YMD = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/;
const DMY = /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})$/;
const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

export interface GatewayTimeOptions {
  /** IANA zone of the gateway's wall clock, used when the text carries no offset. */
  timeZone: string;
  source?: string;
  field?: string;
  /**
   * What a number (or a digit string) counts: `'seconds'` (PayMongo's `t`, Unix time) or
   * `'milliseconds'` (the default, for compatibility). Never guessed from the magnitude: a value
   * in the other unit lands decades away and is refused with a hint naming the unit it looks like.
   */
  unit?: EpochUnit;
}

export type EpochUnit = 'seconds' | 'milliseconds';

/**
 * Parses the time formats these gateways write: `yyyy-MM-dd HH:mm:ss`, `dd/MM/yyyy HH:mm:ss` (both in
 * `timeZone`), ISO 8601 with an offset (kept as written, normalised to `+hh:mm`), and epoch time as
 * a number or digit string in `options.unit` (milliseconds by default; seconds may carry up to three
 * decimals, read as decimal text so `1735787045.123` is exactly .123). Anything else, an impossible
 * date, or an epoch time before 1973 or after 5138 is a PayloadError.
 */
export function parseGatewayTime(value: unknown, options: GatewayTimeOptions): string {
  const fail = (hint = ''): never => {
    const field = options.field ?? 'time';
    throw new PayloadError(
      `${field} ${JSON.stringify(String(value)).slice(0, 40)} is not a date-time this gateway writes${hint}`,
      {
        source: options.source,
        fields: [{ path: `/${field}`, message: 'unrecognised date-time' }],
      },
    );
  };
  const epoch = isEpoch(value, options.unit)
    ? epochMs(value, options.unit ?? 'milliseconds')
    : null;
  if (typeof epoch === 'number') return instantToIso(epoch, options.timeZone);
  if (typeof epoch === 'string') return fail(epoch);
  if (typeof value !== 'string') return fail();
  const text = value.trim();
  let m = ISO_WITH_OFFSET.exec(text);
  if (m) {
    const t = wall(m[1], m[2], m[3], m[4], m[5], m[6]) ?? fail();
    const zone =
      m[8] === 'Z' ? 'Z' : m[8]!.length === 5 ? `${m[8]!.slice(0, 3)}:${m[8]!.slice(3)}` : m[8]!;
    if (zone !== 'Z' && (Number(zone.slice(1, 3)) > 14 || Number(zone.slice(4)) > 59))
      return fail();
    return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}${m[7] ?? ''}${zone}`;
  }
  m = YMD.exec(text);
  if (m) return wallTimeToIso(wall(m[1], m[2], m[3], m[4], m[5], m[6]) ?? fail(), options.timeZone);
  m = DMY.exec(text);
  if (m) return wallTimeToIso(wall(m[3], m[2], m[1], m[4], m[5], m[6]) ?? fail(), options.timeZone);
  return fail();
}

/**
 * Whether `value` is to be read as epoch time: any number; a digit string when the unit is explicit
 * (a 12-14 digit one without, as before the option existed: a shorter one is not taken for ms).
 */
function isEpoch(value: unknown, unit: EpochUnit | undefined): value is number | string {
  if (typeof value === 'number') return true;
  if (typeof value !== 'string') return false;
  return unit ? /^\d+(\.\d+)?$/.test(value) : /^\d{12,14}$/.test(value);
}

/** The gateway's plausible epoch range, in ms: 1973-03-03 to 5138-11-16. */
const EPOCH_MIN_MS = 1e11;
const EPOCH_MAX_MS = 1e14;

/**
 * Epoch time in `unit` → integer ms, from its decimal text (String(number) is the shortest text
 * that reads back as the same number), so seconds × 1000 never drifts by a float's rounding.
 * Returns the refusal's hint (a string) when it is not an epoch time this gateway could mean.
 */
function epochMs(value: number | string, unit: EpochUnit): number | string {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(String(value));
  if (!m) return '';
  const digits = unit === 'seconds' ? 3 : 0;
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  if (fraction.length > digits) return ` (finer than a millisecond, in ${unit})`;
  const ms =
    unit === 'seconds' ? Number(m[1]) * 1000 + Number(fraction.padEnd(3, '0')) : Number(m[1]);
  if (!Number.isSafeInteger(ms)) return '';
  if (ms >= EPOCH_MIN_MS && ms <= EPOCH_MAX_MS) return ms;
  // A hint, never a guess: the value in the other unit would be a plausible time.
  if (unit === 'milliseconds' && ms * 1000 >= EPOCH_MIN_MS && ms * 1000 <= EPOCH_MAX_MS)
    return ": epoch seconds? pass { unit: 'seconds' }";
  if (unit === 'seconds' && ms / 1000 >= EPOCH_MIN_MS && ms / 1000 <= EPOCH_MAX_MS)
    return ": epoch milliseconds? pass { unit: 'milliseconds' }";
  return '';
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The wall time the digit groups name, or null for an impossible date (Feb 30, 24:00...). */
function wall(
  y: string | undefined,
  mo: string | undefined,
  d: string | undefined,
  h: string | undefined,
  mi: string | undefined,
  s: string | undefined,
): WallTime | null {
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  // Arithmetic instead of a Date per parse, with Date.UTC's reading of years 0-99 as 1900-1999.
  const y4 = year >= 0 && year <= 99 ? year + 1900 : year;
  const leap = y4 % 4 === 0 && (y4 % 100 !== 0 || y4 % 400 === 0);
  const daysInMonth = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day < 1 || day > daysInMonth) return null;
  return { year, month, day, hour, minute, second };
}

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;
const pad3 = (n: number): string => (n < 10 ? '00' : n < 100 ? '0' : '') + n;

/**
 * `new Date(ms).toISOString()`, by arithmetic: V8's toISOString took about 1 µs, the largest line of
 * the hub's own code in a profile of the load bench's server (it dates every event's receivedAt);
 * this is about half of it. Days to a civil date as in H. Hinnant's `civil_from_days`; years outside
 * 1970-9999 go to toISOString. The last answer is kept: deliveries that arrive in the same
 * millisecond (several per millisecond under load) share it.
 */
export function utcIso(ms: number): string {
  if (ms === lastIso.ms) return lastIso.text;
  const text = civilIso(ms);
  lastIso.ms = ms;
  lastIso.text = text;
  return text;
}

const lastIso = { ms: NaN, text: '' };

function civilIso(ms: number): string {
  if (!(ms >= 0 && ms < 253_402_300_800_000)) return new Date(ms).toISOString();
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1_460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  return `${year}-${pad2(month)}-${pad2(day)}T${pad2(hour)}:${pad2(minute)}:${pad2(second)}.${pad3(rest - second * 1000)}Z`;
}
