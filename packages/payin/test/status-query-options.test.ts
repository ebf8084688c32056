import { ProviderConfigError } from '@payhook/core';
import { createPayinProvider } from '../src';

const base = { merchantId: '100001', apiKey: 'k' };
const baseUrl = 'https://cashy.example/stage-api/';

describe('statusQuery: the status API options in their one shape', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  it('enables fetchStatus, without a warning', () => {
    const provider = createPayinProvider({ ...base, statusQuery: { baseUrl, timeoutMs: 5_000 } });
    expect(typeof provider.fetchStatus).toBe('function');
    expect(provider.statusLookups).toEqual(['reference', 'orderId']);
    expect(warn).not.toHaveBeenCalled();
  });

  it('still takes the deprecated baseUrl and timeoutMs, warning once each per process', () => {
    const first = createPayinProvider({ ...base, baseUrl, timeoutMs: 5_000 });
    const second = createPayinProvider({ ...base, baseUrl, timeoutMs: 5_000 });
    expect(typeof first.fetchStatus).toBe('function');
    expect(typeof second.fetchStatus).toBe('function');
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls.map((call) => call[0])).toEqual([
      expect.stringMatching(/baseUrl is deprecated: give statusQuery\.baseUrl/),
      expect.stringMatching(/timeoutMs is deprecated: give statusQuery\.timeoutMs/),
    ]);
    expect(warn.mock.calls[0]![1]).toMatchObject({ code: 'PAYHOOK_DEPRECATED_OPTION' });
    // Checked under the name given.
    expect(() => createPayinProvider({ ...base, baseUrl: 'ftp://x' })).toThrow(
      expect.objectContaining({ option: 'baseUrl' }),
    );
  });

  it('refuses an old name with statusQuery', () => {
    for (const old of [{ baseUrl }, { timeoutMs: 5_000 }]) {
      const both = () => createPayinProvider({ ...base, ...old, statusQuery: { baseUrl } });
      expect(both).toThrow(ProviderConfigError);
      expect(both).toThrow(expect.objectContaining({ option: Object.keys(old)[0] }));
    }
  });
});
