import { SEND_GATEWAYS } from '../gateways';
import { COMMON, type OptionsConfig } from './args';
import type { SendEvent, SendGateway, SendOption } from './declare';
import { UsageError } from './errors';

/** The options of `send` itself; the gateways' own come from their declarations. */
export const SEND_OPTIONS = {
  url: { type: 'string' },
  order: { type: 'string' },
  amount: { type: 'string' },
  transaction: { type: 'string' },
  forge: { type: 'boolean' },
  timeout: { type: 'string' },
  fixtures: { type: 'string' },
} as const satisfies OptionsConfig;

/**
 * Every gateway option, once: parseArgs is strict, so a flag no gateway declares is refused. Two
 * gateways may share a flag (`--key`) only with one type.
 */
export function gatewayOptions(
  gateways: readonly SendGateway<unknown>[] = SEND_GATEWAYS,
): Record<string, { type: SendOption['type'] }> {
  const options: Record<string, { type: SendOption['type'] }> = {};
  for (const { gateway, options: own } of gateways)
    for (const [flag, { type }] of Object.entries(own)) {
      if (flag in SEND_OPTIONS || flag in COMMON || (options[flag] && options[flag].type !== type))
        throw new TypeError(`${gateway}: --${flag} clashes with another declaration of it`);
      options[flag] = { type };
    }
  return options;
}

/** The declaration of `<gateway>` and its `<event>`, or a usage error listing the choices. */
export function findEvent(
  gatewayName: string,
  event: string,
  gateways: readonly SendGateway<unknown>[] = SEND_GATEWAYS,
): { gateway: SendGateway<unknown>; event: SendEvent<unknown> } {
  const gateway = gateways.find((g) => g.gateway === gatewayName);
  if (!gateway)
    throw new UsageError(
      `unknown gateway "${gatewayName}" (one of ${gateways.map((g) => g.gateway).join(', ')}); ` +
        "a plugin's own gateway: --fixtures <its fixtures module>",
    );
  const found = Object.hasOwn(gateway.events, event) ? gateway.events[event] : undefined;
  if (!found)
    throw new UsageError(
      `${gatewayName} has no event "${event}" (one of ${Object.keys(gateway.events).join(', ')})`,
    );
  return { gateway, event: found };
}
