import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { nextMessage } from './lib/ipc';
import { createPaymentHub } from '@payhook/core';
import { createLailaolabSource } from '@payhook/lailaolab-socket';

/**
 * Socket: payment messages per second through the Lailaolab source (socket.io-client → hub.receive
 * → memory store → one async listener), from @payhook/testing's simulator running in another
 * process on 127.0.0.1. Every message is a distinct transaction; lost and duplicated are counted
 * per id.
 */

export interface SocketOptions {
  messages: number;
  timeoutSeconds: number;
}

export interface SocketReport {
  messages: number;
  received: number;
  distinct: number;
  lost: number;
  duplicated: number;
  seconds: number;
  messagesPerSecond: number;
  errors: number;
}

export async function runSocket(options: SocketOptions): Promise<SocketReport> {
  const secretKey = `bench-${randomBytes(8).toString('hex')}`;
  const child = fork(path.join(__dirname, 'socket-sim.ts'), [secretKey], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(type: string): Promise<T> => nextMessage<T>(child, type, 'socket simulator');
  const ready = await next<{ socketBase: string; apiBase: string }>('ready');

  const hub = createPaymentHub();
  const seen = new Map<string, number>();
  let received = 0;
  let errors = 0;
  let lastAt = 0n;
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (done = resolve));
  hub.onAny(async (event) => {
    received++;
    seen.set(event.transactionId, (seen.get(event.transactionId) ?? 0) + 1);
    lastAt = process.hrtime.bigint();
    if (seen.size === options.messages) done();
  });
  hub.on('error', () => errors++);
  const up = new Promise<void>((resolve) => hub.once('source.up', () => resolve()));
  const source = createLailaolabSource(hub, {
    secretKey,
    url: ready.socketBase,
    statusQuery: { baseUrl: ready.apiBase },
    // The bench measures socket throughput, and the simulator's status API knows none of the
    // transactions it emits (socket-sim.ts creates no records): with the default confirmation by
    // status query every message would be refused as unknown. The secret channel is trusted here.
    confirmByStatusQuery: false,
  });
  try {
    await up;
    const started = process.hrtime.bigint();
    const emitted = next('emitted');
    child.send({ type: 'emit', count: options.messages, tag: randomBytes(4).toString('hex') });
    await emitted;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      all,
      new Promise((resolve) => (timer = setTimeout(resolve, options.timeoutSeconds * 1000))),
    ]);
    clearTimeout(timer);
    // Anything still arriving after the last expected message would be a duplicate: wait a moment.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const seconds = Number(lastAt - started) / 1e9;
    return {
      messages: options.messages,
      received,
      distinct: seen.size,
      lost: options.messages - seen.size,
      duplicated: received - seen.size,
      seconds,
      messagesPerSecond: seen.size / seconds,
      errors,
    };
  } finally {
    await source.close();
    child.send({ type: 'stop' });
    await new Promise((resolve) =>
      child.exitCode === null ? child.once('exit', resolve) : resolve(null),
    );
  }
}

if (require.main === module) {
  const options = JSON.parse(
    process.argv[2] ?? '{"messages":5000,"timeoutSeconds":60}',
  ) as SocketOptions;
  runSocket(options).then(
    (report) => (process.send ? process.send({ report }) : console.log(report)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
