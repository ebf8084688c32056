import { forgeDelivery, postFixture, type DeliveryView } from '../delivery';
import { SEND_GATEWAYS } from '../gateways';
import { isGatewayPlugin, requirePlugin } from '../plugins';
import { parseCommand } from './args';
import type { SendGateway, SendInput, Sent } from './declare';
import { EXIT, IoError, networkReason, UsageError } from './errors';
import {
  checkFixturesPlugin,
  fixturesArgument,
  loadFixtures,
  type LoadedFixtures,
} from './fixtures';
import { sendHelp } from './help';
import type { CliIo } from './io';
import { printSent } from './report';
import { findEvent, gatewayOptions, SEND_OPTIONS } from './send-table';

type Values = Record<string, string | boolean | undefined>;

/** The gateway-independent options, checked; the gateway's own, read through text()/flag(). */
function inputOf(
  gateway: SendGateway<unknown>,
  event: string,
  values: Values,
  io: CliIo,
): SendInput {
  const text = (flag: string): string | undefined => {
    const value = values[flag];
    return typeof value === 'string' ? value : undefined;
  };
  const timeout = text('timeout');
  const timeoutMs = timeout === undefined ? 10_000 : Number(timeout);
  const input: SendInput = {
    event,
    order: text('order') ?? `payhook-${Date.now().toString(36)}`,
    amount: text('amount'),
    transaction: text('transaction'),
    timeoutMs,
    io,
    text,
    flag: (flag) => values[flag] === true,
  };
  const url = text('url');
  if (url !== undefined && !/^https?:\/\/./.test(url))
    throw new UsageError(`--url "${url}" is not an http(s) URL`);
  if (!url && !gateway.urlOptional?.(input))
    throw new UsageError('--url <your webhook endpoint> is required');
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0)
    throw new UsageError('--timeout must be a positive number of milliseconds');
  return input;
}

async function deliver(url: string, sent: Sent, timeoutMs: number): Promise<DeliveryView<string>> {
  try {
    return await postFixture(url, sent.delivery, { timeoutMs });
  } catch (error) {
    throw new IoError(`could not deliver to ${url} (${networkReason(error)})`);
  }
}

/** Before anything else about the gateway: without its plugin, no option can help. */
function checkPlugin(gateway: SendGateway<unknown>, fixtures: LoadedFixtures | undefined): void {
  const { plugin } = gateway;
  const user = `payhook send ${gateway.gateway}`;
  if (plugin === undefined) return;
  if (fixtures?.gateways.includes(gateway)) checkFixturesPlugin(fixtures, plugin, user);
  else if (isGatewayPlugin(plugin)) requirePlugin(plugin, user);
}

/**
 * `payhook send [--fixtures <module>] <gateway> <event>`: builds the declared event's delivery,
 * posts it, reports. The table is the built-in declarations, and the module's for this run.
 */
export async function send(args: string[], io: CliIo): Promise<number> {
  const spec = fixturesArgument(args, SEND_GATEWAYS);
  const fixtures = spec === undefined ? undefined : await loadFixtures(spec, io.cwd, SEND_GATEWAYS);
  const table = [...SEND_GATEWAYS, ...(fixtures?.gateways ?? [])];
  const help = (): string => sendHelp(table, fixtures);
  const parsed = parseCommand(args, { ...SEND_OPTIONS, ...gatewayOptions(table) }, help, io);
  if (!parsed) return EXIT.OK;
  const { values, positionals } = parsed;
  const [gatewayName, eventName, extra] = positionals;
  if (!gatewayName || !eventName) throw new UsageError('send needs <gateway> and <event>');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const { gateway, event } = findEvent(gatewayName, eventName, table);
  checkPlugin(gateway, fixtures);
  const input = inputOf(gateway, eventName, values, io);
  let sent = await event.build(gateway.setup(input), input);
  if (values.forge) sent = { ...sent, delivery: forgeDelivery(sent.delivery) };
  const url = values.url;
  const view = url ? await deliver(url, sent, input.timeoutMs) : undefined;
  return printSent(io, { gateway: gateway.gateway, input, sent, url, view, json: values.json });
}
