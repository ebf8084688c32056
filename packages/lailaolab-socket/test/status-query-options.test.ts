import { createPaymentHub, ProviderConfigError } from '@payhook/core';
import { createLailaolabMiddleware, createLailaolabProvider } from '../src';

const baseUrl = 'https://status.example';

describe('statusQuery: the status API options in their one shape', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  it('is taken without a warning', () => {
    const provider = createLailaolabProvider({
      secretKey: 'k',
      statusQuery: { baseUrl, timeoutMs: 5_000 },
    });
    expect(typeof provider.fetchStatus).toBe('function');
    expect(warn).not.toHaveBeenCalled();
  });

  it('still takes apiBase and statusTimeoutMs, warning once each through the hub logger', () => {
    const logged: unknown[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      error: () => undefined,
      warn: (_fields: unknown, message?: string) => logged.push(message),
    };
    const hub = createPaymentHub({ logger });
    const old = { secretKey: 'k', apiBase: baseUrl, statusTimeoutMs: 5_000 };
    expect(typeof createLailaolabMiddleware(hub, old).provider.fetchStatus).toBe('function');
    expect(typeof createLailaolabProvider(old).fetchStatus).toBe('function');
    expect(logged).toEqual([
      expect.stringMatching(/apiBase is deprecated: give statusQuery\.baseUrl/),
      expect.stringMatching(/statusTimeoutMs is deprecated: give statusQuery\.timeoutMs/),
    ]);
    // Once per process: the second construction, without a logger, warns no more.
    expect(warn).not.toHaveBeenCalled();
  });

  it('refuses an old name with statusQuery', () => {
    for (const old of [{ apiBase: baseUrl }, { statusTimeoutMs: 5_000 }]) {
      const both = () =>
        createLailaolabProvider({ secretKey: 'k', ...old, statusQuery: { baseUrl } });
      expect(both).toThrow(ProviderConfigError);
      expect(both).toThrow(expect.objectContaining({ option: Object.keys(old)[0] }));
    }
  });
});
