import { ConfigError, type HttpReply } from '@payhook/core';
import { SOURCE } from './keys';

/**
 * The gateway plugins are optional peers: a merchant installs only those it uses. Each builder
 * loads its plugin when it is called, never when @payhook/testing is loaded, and says which
 * package to install when it is absent.
 *
 * What a builder uses of its plugin is written as a shape next to it (NewpayPlugin...) rather than
 * imported: this package then compiles, and its users' compilers run, with no plugin installed,
 * and builds before the plugins. test/plugins.test.ts checks that each plugin fits its shape.
 */

/** A delivery as the plugins' signers return it. */
export interface SignedBody {
  body: string;
  headers: Record<string, string>;
}

/** What the builders take of a plugin's provider: the answer that stops the gateway's retries. */
export interface AnsweringProvider {
  readonly ack: { readonly ok: HttpReply };
}

/** The plugin each gateway's builders sign and answer with. */
export const GATEWAY_PLUGINS = {
  newpay: '@payhook/newpay-callback',
  cashy: '@payhook/payin',
  'signed-param': '@payhook/signed-param',
  lailaolab: '@payhook/lailaolab-socket',
} as const;

export type GatewayPlugin = (typeof GATEWAY_PLUGINS)[keyof typeof GATEWAY_PLUGINS];

/**
 * Every optional peer: the gateway plugins, @payhook/postgres for the deprecated `payhook
 * postgres …`, and socket.io for the Lailaolab simulator (a Socket.IO server).
 */
export type OptionalPeer = GatewayPlugin | '@payhook/postgres' | 'socket.io';

/** Is `name` one of this package's gateway plugins (not a plugin a fixtures module names)? */
export function isGatewayPlugin(name: string): name is GatewayPlugin {
  return (Object.values(GATEWAY_PLUGINS) as string[]).includes(name);
}

/**
 * A builder or CLI command whose gateway plugin is not installed. A ConfigError (ERR_CONFIG): like
 * a bad option, it is a setup problem found before any delivery is built.
 */
export class MissingPluginError extends ConfigError {
  /** The package to install, e.g. `@payhook/newpay-callback` or `socket.io`. */
  readonly plugin: OptionalPeer;
  /**
   * What needed it: a builder (`createNewpayFixtures`, `startLailaolabSimulator`) or a command
   * (`payhook send newpay`, `payhook simulate lailaolab`).
   */
  readonly user: string;
  constructor(user: string, plugin: OptionalPeer, cause?: unknown) {
    super(plugin, 'is not installed', { source: SOURCE, cause });
    this.plugin = plugin;
    this.user = user;
    // ConfigError words its message for an option; this one says what to run instead.
    this.message = `${SOURCE}: ${this.hint}`;
  }
  /** The message without its source: `<user> needs <plugin>: npm install -D <plugin>`. */
  get hint(): string {
    return `${this.user} needs ${this.plugin}: npm install -D ${this.plugin}`;
  }
}

/** Is this the resolution failure of `id` itself (not of a module it requires)? */
function isNotFound(error: unknown, id: string): boolean {
  const e = error as NodeJS.ErrnoException;
  return (
    (e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    e.message.includes(`'${id}'`)
  );
}

/** The gateway plugins whose signers live on their `./signing` subpath, not on the root. */
const SIGNING_SUBPATH: ReadonlySet<OptionalPeer> = new Set([
  GATEWAY_PLUGINS.newpay,
  GATEWAY_PLUGINS.cashy,
  GATEWAY_PLUGINS['signed-param'],
]);

/**
 * `require(plugin)` (with its `./signing` subpath merged in, for a plugin that has one), or a
 * MissingPluginError naming `user` (what needed it) and the install.
 */
export function requirePlugin<T>(plugin: OptionalPeer, user: string): T {
  try {
    const root = require(plugin) as object;
    if (!SIGNING_SUBPATH.has(plugin)) return root as T;
    return { ...root, ...(require(`${plugin}/signing`) as object) } as T;
  } catch (error) {
    if (isNotFound(error, plugin)) throw new MissingPluginError(user, plugin, error);
    throw error;
  }
}
