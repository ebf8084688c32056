import { ProviderConfigError } from '../src';
import { splitKeyModes } from '../src/plugin';

/** The option a ProviderConfigError names, or undefined when nothing was thrown. */
function optionOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderConfigError);
    return (error as ProviderConfigError).option;
  }
  return undefined;
}

describe('splitKeyModes names the merchant option of a key the mount would refuse', () => {
  const test = { key: 'sandbox', mode: 'test' } as const;
  const live = { key: 'real', mode: 'live' } as const;

  it('keeps the order and gives bare keys the mount mode', () => {
    expect(splitKeyModes(['a', test], { allowTestMode: true }, 'secrets')).toEqual({
      keys: ['a', 'sandbox'],
      modes: ['live', 'test'],
    });
    expect(splitKeyModes(['a'], { mode: 'test' }, 'secrets').modes).toEqual(['test']);
  });

  it('a test key on a live mount without allowTestMode, a live key on a test mount: option[i]', () => {
    expect(optionOf(() => splitKeyModes(['a', test], {}, 'secrets'))).toBe('secrets[1]');
    expect(optionOf(() => splitKeyModes(['a', test], { allowTestMode: false }, 'secrets'))).toBe(
      'secrets[1]',
    );
    expect(optionOf(() => splitKeyModes([live], { mode: 'test' }, 'secrets'))).toBe('secrets[0]');
  });

  it('a mode that is neither live nor test: option[i].mode', () => {
    const staging = { key: 'k', mode: 'staging' } as unknown as typeof test;
    expect(optionOf(() => splitKeyModes([staging], {}, 'secrets'))).toBe('secrets[0].mode');
  });

  it("leaves a bad mount setting to checkModes, which names the merchant's own mistake", () => {
    const bad = { mode: 'staging' } as unknown as { mode: 'live' };
    expect(optionOf(() => splitKeyModes([test], bad, 'secrets'))).toBeUndefined();
    const yes = { allowTestMode: 'yes' } as unknown as { allowTestMode: boolean };
    expect(optionOf(() => splitKeyModes([test], yes, 'secrets'))).toBeUndefined();
  });
});
