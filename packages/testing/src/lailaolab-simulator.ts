import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server as IoServer } from 'socket.io';
import { zoneOffsetMinutes } from '@payhook/core/plugin';
import { requirePlugin } from './plugins';

/**
 * A local stand-in for Lailaolab/PhaJay: a Socket.IO server that emits payment messages on
 * `join::<secret>` as the gateway does (https://payment-doc.lailaolab.com/v1/subscription), and the
 * status API (`GET /v1/api/payment/check-transaction/status/{id}`, Basic auth,
 * https://payment-doc.lailaolab.com/v1/check-transaction-status), both on 127.0.0.1. It plays
 * the gateway's side only, so it needs neither @payhook/lailaolab-socket nor any plugin: the wire
 * formats below are the gateway's, which the plugin reads.
 */

/** The status API's path, as the gateway serves it (the plugin's STATUS_PATH asks for it). */
const STATUS_PATH = '/v1/api/payment/check-transaction/status/';
/** Lailaolab's wall clock (Laos), the zone of `txnDateTime`. */
const GATEWAY_TIME_ZONE = 'Asia/Vientiane';

/**
 * One message of the `join::<secret>` channel as the gateway writes it (the response sample of
 * https://payment-doc.lailaolab.com/v1/subscription, values shaped like the BCEL payload observed
 * in barlus-developer/phajay-payment-gateway payment_qr_webhook_test.go); also the webhook body.
 */
export interface LailaolabMessage {
  /** `SUCCESS` or `FAILED`. */
  message: string;
  /** Always `PAYMENT_COMPLETED` on the channel, whatever `message` says. */
  status: string;
  transactionId: string;
  /** Whole kip, a JSON integer (text only past 2^53). */
  txnAmount: number | string;
  /** `YYYY-MM-DD HH:MM:SS` (documented) or `DD/MM/YYYY HH:MM:SS` (observed), gateway wall time. */
  txnDateTime: string;
  refNo: string | number;
  exReferenceNo: string;
  merchantName: string;
  memo: string;
  billNumber: string;
  sourceAccount: string;
  sourceName: string;
  sourceCurrency: string;
  userId: string;
  paymentMethod: string;
  [extra: string]: unknown;
}

/**
 * `data` of the status API's answer: one transaction of the simulator's ledger, typed from what the
 * simulator itself writes (createTransaction, then pay or fail), not from everything the gateway may
 * answer. @payhook/lailaolab-socket keeps its own, wider reading type (every field optional, as
 * banks send different subsets). It is not imported, even with `import type`: that would put
 * `import("@payhook/lailaolab-socket")` in this package's .d.ts, and a TypeScript consumer who
 * installed @payhook/testing without that optional peer would get TS2307 in our types (without
 * skipLibCheck) or `any` in their place (with it). test/optional-peers.test.ts checks at compile
 * time that this record still fits the plugin's type.
 */
export interface LailaolabStatusData {
  transactionId: string;
  /** WAITING when created, PAYMENT_COMPLETED once paid, or `fail`'s `recordStatus`. */
  status: string;
  isPaid: boolean;
  /** Kip as createTransaction was given it; decimal text is served as a bare JSON number. */
  amount: number | string;
  /** LAK unless createTransaction says otherwise; left out when it says `null`. */
  currency?: string;
  /** The simulator makes no payment links. */
  linkCode: null;
  orderNo: string | null;
  description: string;
  /** BCEL, the bank of the observed payload. */
  paymentMethod: string;
  /** ISO 8601 once paid, null before. */
  paymentTime: string | null;
  /** ISO 8601. */
  createdAt: string;
  /** What setTransaction adds, to play an answer the simulator would not write itself. */
  [extra: string]: unknown;
}

export interface LailaolabSimulatorOptions {
  secretKey: string;
  /** Key the status API accepts (default secretKey). */
  apiKey?: string;
  /**
   * Refuse socket connections whose `?key=` is not `secretKey` (default true). What the real
   * server does with a wrong key is undocumented: it may also accept and stay silent.
   */
  checkKey?: boolean;
  /** Zone of the `txnDateTime` it writes (default Asia/Vientiane). */
  timeZone?: string;
  merchantName?: string;
}

export interface SimulatedPaymentOptions {
  /** When the bank processed it (default now). */
  at?: Date;
  /** `ymd`: the documented `YYYY-MM-DD HH:MM:SS`; `dmy`: the observed `DD/MM/YYYY HH:MM:SS`. */
  dateFormat?: 'ymd' | 'dmy';
  refNo?: string | number;
  paymentMethod?: string;
  /** Emit the message on the channel (default true); false is a payment the socket never told. */
  emit?: boolean;
  /** Extra or overriding message fields. */
  extra?: Record<string, unknown>;
  /**
   * Message fields to leave out, e.g. `['message']`: the only fields a bank is known to always send
   * are `paymentMethod, transactionId, billNumber, txnAmount, status`
   * (barlus-developer/phajay-payment-gateway).
   */
  omit?: string[];
  /**
   * `fail` only: what the status API says afterwards. By default the record is left as it is
   * (WAITING: a failed attempt at a QR that can still be paid); `EXPIRED` (documented, barlus SDK
   * transaction.go) or `FAILED` play a record that says the payment failed.
   */
  recordStatus?: string;
}

export interface LailaolabSimulator {
  /** `http://127.0.0.1:<port>/`: give it as the source's `url`. */
  readonly socketBase: string;
  readonly apiBase: string;
  /** Every status API request, in order. */
  readonly statusRequests: Array<{ transactionId: string; authorized: boolean }>;
  /** Every request the API server received, whatever its path (`path` as sent, query included). */
  readonly apiRequests: Array<{ method: string; path: string }>;
  /** The most status requests the API was answering at the same time (set it to 0 to restart). */
  statusPeakConcurrency: number;
  /** `up`, or `down` (answers 503) to play an outage of the status API. */
  statusApiMode: 'up' | 'down';
  /** How long the status API takes to answer, in ms (default 0): to hold requests in flight. */
  statusApiLatencyMs: number;
  /** Registers a transaction in WAITING, as generating a QR does. */
  createTransaction(init: {
    amount: number | string;
    transactionId?: string;
    orderNo?: string;
    description?: string;
    /** Default `LAK`; `null` leaves the field out of the record. */
    currency?: string | null;
  }): LailaolabStatusData;
  transaction(transactionId: string): LailaolabStatusData | undefined;
  /** Changes what the status API says (to play a forged or contradicted message). */
  setTransaction(transactionId: string, patch: Partial<LailaolabStatusData>): void;
  /** The payment completes: status API says PAYMENT_COMPLETED, and the channel is told. */
  pay(transactionId: string, options?: SimulatedPaymentOptions): LailaolabMessage;
  /** The payment fails: the channel says FAILED; the status API keeps WAITING unless `recordStatus`. */
  fail(transactionId: string, options?: SimulatedPaymentOptions): LailaolabMessage;
  /** Emits any message on `join::<secret>` (or `event`) to every connected client. */
  emit(message: unknown, event?: string): void;
  connectedClients(): number;
  waitForClients(count: number): Promise<void>;
  /** Stops the Socket.IO server (clients see a disconnect); the status API stays up. */
  stopSocket(): Promise<void>;
  /** Starts it again on the same port. */
  startSocket(): Promise<void>;
  /** POSTs a message as the portal webhook would (JSON body; a string is sent as it is). */
  postWebhook(url: string, message: unknown): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Gateway wall time in `timeZone`, in the documented (`ymd`) or observed (`dmy`) format. */
export function formatLailaolabTime(
  date: Date,
  format: 'ymd' | 'dmy' = 'ymd',
  timeZone = GATEWAY_TIME_ZONE,
): string {
  const ms = Math.floor(date.getTime() / 1000) * 1000;
  const local = new Date(ms + zoneOffsetMinutes(timeZone, ms) * 60_000);
  const y = pad(local.getUTCFullYear(), 4);
  const mo = pad(local.getUTCMonth() + 1);
  const d = pad(local.getUTCDate());
  const time = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  return format === 'ymd' ? `${y}-${mo}-${d} ${time}` : `${d}/${mo}/${y} ${time}`;
}

/**
 * A channel message with the documented fields (the subscription doc's response sample) and values
 * shaped like the observed BCEL payload.
 */
export function buildLailaolabMessage(fields: {
  transactionId: string;
  amount: number | string;
  outcome?: 'SUCCESS' | 'FAILED';
  at?: Date;
  dateFormat?: 'ymd' | 'dmy';
  timeZone?: string;
  refNo?: string | number;
  merchantName?: string;
  paymentMethod?: string;
  extra?: Record<string, unknown>;
}): LailaolabMessage {
  return {
    message: fields.outcome ?? 'SUCCESS',
    refNo: fields.refNo ?? '001LNMI811581649255',
    exReferenceNo: 'BONEN5JL999C3ZLN',
    merchantName: fields.merchantName ?? 'LAILAOLAB ICT SOLUTIONS CO.,LTD',
    memo: 'PAYMENT',
    txnDateTime: formatLailaolabTime(fields.at ?? new Date(), fields.dateFormat, fields.timeZone),
    txnAmount: fields.amount,
    billNumber: fields.transactionId,
    sourceAccount: '1600120000000004810001',
    sourceName: '',
    sourceCurrency: 'LAK',
    userId: '656fd8886b411beab18eca79',
    status: 'PAYMENT_COMPLETED',
    transactionId: fields.transactionId,
    paymentMethod: fields.paymentMethod ?? 'BCEL',
    ...fields.extra,
  };
}

/** JSON with amounts given as decimal text written as bare JSON numbers, digit for digit. */
function statusJson(body: { message: string; data: LailaolabStatusData | null }): string {
  const marks = new Map<string, string>();
  const text = JSON.stringify(body, (key, value: unknown) => {
    if (key === 'amount' && typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) {
      const mark = `@@amount${marks.size}@@`;
      marks.set(`"${mark}"`, value);
      return mark;
    }
    return value;
  });
  let out = text;
  for (const [mark, value] of marks) out = out.replace(mark, value);
  return out;
}

/** What the simulator's functions share; one per startLailaolabSimulator call. */
interface SimulatorState {
  readonly secretKey: string;
  readonly checkKey: boolean;
  readonly timeZone: string;
  readonly merchantName: string | undefined;
  /** `join::<secret>`, where payment messages go. */
  readonly channel: string;
  /** The Authorization header the status API accepts. */
  readonly expectedAuth: string;
  readonly ledger: Map<string, LailaolabStatusData>;
  readonly statusRequests: LailaolabSimulator['statusRequests'];
  readonly apiRequests: LailaolabSimulator['apiRequests'];
  statusInFlight: number;
  statusPeakConcurrency: number;
  statusApiMode: LailaolabSimulator['statusApiMode'];
  statusApiLatencyMs: number;
  /** The Socket.IO server class, loaded when the simulator starts. */
  readonly Server: typeof IoServer;
  /** The socket server while it runs, and the port it keeps across stop and start. */
  http: HttpServer | undefined;
  io: IoServer | undefined;
  socketPort: number;
}

function createSimulatorState(options: LailaolabSimulatorOptions): SimulatorState {
  // Loaded here, not at the top: importing @payhook/testing for a signer never loads socket.io,
  // an optional peer that only the simulator needs (absent: MissingPluginError, npm install it).
  const { Server } = requirePlugin<typeof import('socket.io')>(
    'socket.io',
    'startLailaolabSimulator',
  );
  const secretKey = options.secretKey;
  if (typeof secretKey !== 'string' || secretKey.length === 0)
    throw new TypeError('startLailaolabSimulator: secretKey is required');
  const apiKey = options.apiKey ?? secretKey;
  return {
    secretKey,
    checkKey: options.checkKey ?? true,
    timeZone: options.timeZone ?? GATEWAY_TIME_ZONE,
    merchantName: options.merchantName,
    channel: `join::${secretKey}`,
    expectedAuth: `Basic ${Buffer.from(apiKey, 'utf8').toString('base64')}`,
    ledger: new Map(),
    statusRequests: [],
    apiRequests: [],
    statusInFlight: 0,
    statusPeakConcurrency: 0,
    statusApiMode: 'up',
    statusApiLatencyMs: 0,
    Server,
    http: undefined,
    io: undefined,
    socketPort: 0,
  };
}

type Send = (status: number, body: string) => void;

/** The status API's answer for one transaction, as the gateway words it. */
function answerStatus(
  state: SimulatorState,
  transactionId: string,
  authorized: boolean,
  send: Send,
): void {
  if (state.statusApiMode === 'down')
    return send(503, JSON.stringify({ message: 'SERVICE_UNAVAILABLE' }));
  if (!authorized) return send(401, JSON.stringify({ message: 'UNAUTHORIZED' }));
  const data = state.ledger.get(transactionId);
  if (!data) return send(200, JSON.stringify({ message: 'PAYMENT_NOT_FOUND', data: null }));
  return send(200, statusJson({ message: 'SUCCESSFULLY', data }));
}

/** Every request of the API server: recorded, and answered by the status API or a 404. */
function handleApiRequest(state: SimulatorState, req: IncomingMessage, res: ServerResponse): void {
  state.apiRequests.push({ method: req.method ?? '', path: req.url ?? '' });
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const send: Send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(body);
  };
  if (req.method !== 'GET' || !path.startsWith(STATUS_PATH))
    return send(404, JSON.stringify({ message: 'NOT_FOUND' }));
  const transactionId = decodeURIComponent(path.slice(STATUS_PATH.length));
  const authorized = req.headers.authorization === state.expectedAuth;
  state.statusRequests.push({ transactionId, authorized });
  state.statusPeakConcurrency = Math.max(state.statusPeakConcurrency, ++state.statusInFlight);
  res.once('close', () => state.statusInFlight--);
  if (state.statusApiLatencyMs > 0) {
    setTimeout(
      () => answerStatus(state, transactionId, authorized, send),
      state.statusApiLatencyMs,
    );
    return;
  }
  answerStatus(state, transactionId, authorized, send);
}

async function startStatusApi(state: SimulatorState): Promise<HttpServer> {
  const api = createServer((req, res) => handleApiRequest(state, req, res));
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  return api;
}

async function startSocket(state: SimulatorState): Promise<void> {
  if (state.io) return;
  const server = createServer();
  const ioServer = new state.Server(server);
  ioServer.use((socket, next) => {
    if (!state.checkKey || socket.handshake.query.key === state.secretKey) return next();
    next(new Error('unauthorized'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(state.socketPort, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  state.socketPort = (server.address() as AddressInfo).port;
  state.http = server;
  state.io = ioServer;
}

async function stopSocket(state: SimulatorState): Promise<void> {
  const ioServer = state.io;
  const server = state.http;
  state.io = undefined;
  state.http = undefined;
  if (!ioServer || !server) return;
  const closed = ioServer.close();
  server.closeAllConnections();
  await closed;
}

function ensure(state: SimulatorState, transactionId: string): LailaolabStatusData {
  const data = state.ledger.get(transactionId);
  if (!data) throw new Error(`simulator: unknown transaction ${transactionId}`);
  return data;
}

/** Registers a transaction in WAITING, as generating a QR does. */
function createTransaction(
  state: SimulatorState,
  init: Parameters<LailaolabSimulator['createTransaction']>[0],
): LailaolabStatusData {
  const transactionId = init.transactionId ?? randomUUID();
  const data: LailaolabStatusData = {
    transactionId,
    linkCode: null,
    orderNo: init.orderNo ?? null,
    status: 'WAITING',
    isPaid: false,
    amount: init.amount,
    // `null` leaves the field out (a record without a currency), in the order the gateway writes it.
    ...(init.currency === null ? {} : { currency: init.currency ?? 'LAK' }),
    description: init.description ?? 'PAYMENT',
    paymentMethod: 'BCEL',
    paymentTime: null,
    createdAt: new Date().toISOString(),
  };
  state.ledger.set(transactionId, data);
  return { ...data };
}

/** The channel message telling the outcome of a ledger transaction. */
function messageFor(
  state: SimulatorState,
  data: LailaolabStatusData,
  outcome: 'SUCCESS' | 'FAILED',
  o: SimulatedPaymentOptions,
): LailaolabMessage {
  const msg = buildLailaolabMessage({
    transactionId: data.transactionId,
    amount: typeof data.amount === 'string' ? data.amount : Number(data.amount),
    outcome,
    at: o.at,
    dateFormat: o.dateFormat,
    timeZone: state.timeZone,
    refNo: o.refNo,
    merchantName: state.merchantName,
    paymentMethod: o.paymentMethod,
    extra: o.extra,
  });
  for (const field of o.omit ?? []) delete msg[field];
  return msg;
}

function emit(state: SimulatorState, msg: unknown, event = state.channel): void {
  state.io?.emit(event, msg);
}

function pay(state: SimulatorState, id: string, o: SimulatedPaymentOptions = {}): LailaolabMessage {
  const data = ensure(state, id);
  const at = o.at ?? new Date();
  Object.assign(data, { status: 'PAYMENT_COMPLETED', isPaid: true, paymentTime: at.toISOString() });
  const msg = messageFor(state, data, 'SUCCESS', { ...o, at });
  if (o.emit !== false) emit(state, msg);
  return msg;
}

function fail(
  state: SimulatorState,
  id: string,
  o: SimulatedPaymentOptions = {},
): LailaolabMessage {
  const data = ensure(state, id);
  if (o.recordStatus !== undefined) Object.assign(data, { status: o.recordStatus, isPaid: false });
  const msg = messageFor(state, data, 'FAILED', o);
  if (o.emit !== false) emit(state, msg);
  return msg;
}

const connectedClients = (state: SimulatorState): number => state.io?.of('/').sockets.size ?? 0;

async function waitForClients(state: SimulatorState, count: number): Promise<void> {
  while (connectedClients(state) !== count) await new Promise((r) => setTimeout(r, 10));
}

async function postWebhook(url: string, msg: unknown): Promise<{ status: number; body: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof msg === 'string' ? msg : JSON.stringify(msg),
  });
  return { status: response.status, body: await response.text() };
}

async function closeSimulator(state: SimulatorState, api: HttpServer): Promise<void> {
  await stopSocket(state);
  api.closeAllConnections();
  await new Promise<void>((resolve) => api.close(() => resolve()));
}

export async function startLailaolabSimulator(
  options: LailaolabSimulatorOptions,
): Promise<LailaolabSimulator> {
  const state = createSimulatorState(options);
  const api = await startStatusApi(state);
  const apiPort = (api.address() as AddressInfo).port;
  await startSocket(state);
  return {
    get socketBase() {
      return `http://127.0.0.1:${state.socketPort}/`;
    },
    apiBase: `http://127.0.0.1:${apiPort}`,
    statusRequests: state.statusRequests,
    apiRequests: state.apiRequests,
    get statusPeakConcurrency() {
      return state.statusPeakConcurrency;
    },
    set statusPeakConcurrency(value: number) {
      state.statusPeakConcurrency = value;
    },
    get statusApiMode() {
      return state.statusApiMode;
    },
    set statusApiMode(mode: LailaolabSimulator['statusApiMode']) {
      state.statusApiMode = mode;
    },
    get statusApiLatencyMs() {
      return state.statusApiLatencyMs;
    },
    set statusApiLatencyMs(ms: number) {
      state.statusApiLatencyMs = ms;
    },
    createTransaction: (init) => createTransaction(state, init),
    transaction: (id) => (state.ledger.has(id) ? { ...state.ledger.get(id)! } : undefined),
    setTransaction: (id, patch) => void Object.assign(ensure(state, id), patch),
    pay: (id, o) => pay(state, id, o),
    fail: (id, o) => fail(state, id, o),
    emit: (msg, event) => emit(state, msg, event),
    connectedClients: () => connectedClients(state),
    waitForClients: (count) => waitForClients(state, count),
    stopSocket: () => stopSocket(state),
    startSocket: () => startSocket(state),
    postWebhook,
    close: () => closeSimulator(state, api),
  };
}
