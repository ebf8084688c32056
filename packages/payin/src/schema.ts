/** Starts every error message of this package. */
export const SOURCE = '@payhook/payin';

/**
 * What Cashy sends and answers: the wire types, and the JSON schema a verified webhook (or a
 * /api/payInQuery order) is checked against. The body is parsed with every JSON number kept as its source text, so a field the
 * docs type as a number (`amount`, `fee`, `merchantId`) is a string here whether Cashy wrote
 * `100.10` or `"100.10"`: nothing passes through a binary float.
 */

/**
 * Payin Order Status Enum (e.g. https://docs.cashypro.com/en_us/pak/appendix.html; PROCESSING,
 * WAITING and CANCEL from the older docs).
 */
export type CashyOrderStatus = CashyKnownOrderStatus | (string & {});

/** The words of CashyOrderStatus this package maps (ORDER_STATUS at the top of normalize.ts). */
export type CashyKnownOrderStatus =
  'SUCCESS' | 'FAIL' | 'CANCEL' | 'PAYING' | 'PROCESSING' | 'WAITING';

/** API = /api/payIn, MCH = merchant back office, DESK = cashier, PATCH = replenishment (补单). */
export type CashyOrderType = 'API' | 'MCH' | 'DESK' | 'PATCH' | (string & {});

/**
 * The async webhook body ("Webhook RequestBody" of Cashy's payin page,
 * https://docs.cashypro.com/en_us/<country>/payin.html; showdoc IdCashyEnglish).
 */
export interface CashyPayinWebhook {
  orderStatus: CashyOrderStatus;
  /** Platform order number; the idempotency key. */
  orderNo: string;
  /** Merchant order number; for a PATCH order, the original one plus a 5-digit serial. */
  mchOrderNo: string;
  /** decimal(20,2), or an integer in MXN/TZS/CLP countries, as its source text. */
  amount: string;
  /** decimal(20,4); only when the order succeeded. */
  fee?: string | null;
  merchantId?: string;
  /** `yyyy-MM-dd HH:mm:ss` in the country's zone; only when the order succeeded. */
  completionTime?: string | null;
  orderType?: CashyOrderType | null;
  /** PATCH: the platform orderNo of the original order (equals orderNo for API orders). */
  patchOrderNo?: string | null;
  /** PATCH: the merchant order number of the original order (equals mchOrderNo for API orders). */
  patchMchOrderNo?: string | null;
  nonceStr?: string | null;
  payUrl?: string | null;
  payDeskUrl?: string | null;
  payType?: string | null;
  payCode?: string | null;
  [extra: string]: unknown;
}

/** `data` of a /api/payInQuery answer ("Query Payin Order", docs.cashypro.com, payin page). */
export interface CashyPayinOrder extends CashyPayinWebhook {
  channelOrderNo?: string | null;
}

/** `data` of a /api/payIn answer ("Create Payin Order", docs.cashypro.com, payin page). */
export interface CashyCreatedPayin {
  merchantId?: string;
  mchOrderNo: string;
  orderNo: string;
  amount?: string;
  orderFee?: string | null;
  payCode?: string | null;
  payUrl?: string | null;
  payDeskUrl?: string | null;
  [extra: string]: unknown;
}

/**
 * The envelope of every Cashy API answer: only code 200 is success
 * (e.g. https://docs.cashypro.com/en_us/pak/appendix.html).
 */
export interface CashyApiResponse<T> {
  code: string;
  msg: string;
  data: T | null;
}

const nullableString = { type: ['string', 'null'] } as const;

/**
 * Numbers arrive as their source text (parseJson `numbers: 'text'`), so `amount` is a string here
 * whether Cashy wrote a JSON number or a string. Unknown members are allowed: the examples are
 * sloppy (payType, payCode, payUrl come and go).
 */
export const cashyWebhookSchema = {
  type: 'object',
  required: ['orderStatus', 'orderNo', 'mchOrderNo', 'amount'],
  properties: {
    orderStatus: { type: 'string', minLength: 1 },
    orderNo: { type: 'string', minLength: 1, maxLength: 64 },
    mchOrderNo: { type: 'string', minLength: 1, maxLength: 64 },
    amount: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$' },
    fee: { anyOf: [{ type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$' }, { type: 'null' }] },
    merchantId: { type: 'string' },
    completionTime: nullableString,
    orderType: nullableString,
    patchOrderNo: nullableString,
    patchMchOrderNo: nullableString,
    nonceStr: nullableString,
  },
} as const;
