// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Listener = (...args: any[]) => unknown;

/** The name the any-listeners (`onAny`) are kept under: they run after the type's own. */
export const ANY = '*';

interface Entry {
  readonly listener: Listener;
  readonly once: boolean;
}

/** One name's registrations, and the functions `take` hands out (made once per change). */
interface List {
  readonly entries: readonly Entry[];
  readonly listeners: readonly Listener[];
  /** Whether some entry is one-shot (`take` then makes the list without them). */
  readonly once: boolean;
}

/**
 * Listener lists by name, for the hub and @payhook/postgres's queue (its worker runs them with the
 * same `runListeners`).
 *
 * Not an emitter library (eventemitter3 was here; node:events in the queue): payhook never calls
 * `emit`, because listeners' return values (promises) must be awaited, so all it used of one was a
 * map of lists, and it had to rebuild `once` on top (a WeakSet marking one-shot functions, as
 * `emit` was never called to drop them). This is that map and nothing else.
 * `take` hands out the list itself, no copy, where eventemitter3's `listeners` copied it on every
 * call (the type's and the any-listeners of one dispatch: about 75 ns against 110, npx tsx, 2M
 * calls; too little to matter, the point is one dependency and one `once` less).
 *
 * Lists are copy-on-write: `on`, `once`, `off` and the removal of one-shot listeners each make a
 * new list, so the one handed out to a running dispatch never changes under it (a listener removed
 * during a dispatch still runs in it, and no more after). A `once` listener is removed as `take`
 * hands it out. `off` removes every registration of the function under the name.
 */
export class ListenerRegistry {
  private readonly lists = new Map<string, List>();

  on(name: string, listener: Listener): this {
    return this.add(name, { listener, once: false });
  }

  once(name: string, listener: Listener): this {
    return this.add(name, { listener, once: true });
  }

  off(name: string, listener: Listener): this {
    const list = this.lists.get(name);
    if (list)
      this.set(
        name,
        list.entries.filter((e) => e.listener !== listener),
      );
    return this;
  }

  count(name: string): number {
    return this.lists.get(name)?.entries.length ?? 0;
  }

  /** The listeners of `name` now, in registration order (never changed later); `once` ones leave. */
  take(name: string): readonly Listener[] {
    const list = this.lists.get(name);
    if (!list) return NONE;
    if (list.once)
      this.set(
        name,
        list.entries.filter((e) => !e.once),
      );
    return list.listeners;
  }

  private add(name: string, entry: Entry): this {
    this.set(name, [...(this.lists.get(name)?.entries ?? []), entry]);
    return this;
  }

  private set(name: string, entries: readonly Entry[]): void {
    if (entries.length === 0) this.lists.delete(name);
    else
      this.lists.set(name, {
        entries,
        listeners: entries.map((e) => e.listener),
        once: entries.some((e) => e.once),
      });
  }
}

const NONE: readonly Listener[] = Object.freeze([]);

/**
 * Calls the listeners of a notice channel with `args`, each one whatever the others do: one that
 * throws or rejects goes to `failed` (the hub logs it, the queue reports it on `error`).
 */
export function notifyListeners(
  registry: ListenerRegistry,
  name: string,
  args: readonly unknown[],
  failed: (error: unknown) => void,
): void {
  for (const listener of registry.take(name)) {
    let result: unknown;
    try {
      result = listener(...args);
    } catch (error) {
      failed(error);
      continue;
    }
    if (isThenable(result)) Promise.resolve(result).catch(failed);
  }
}

export const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null &&
  (typeof v === 'object' || typeof v === 'function') &&
  typeof (v as { then?: unknown }).then === 'function';
