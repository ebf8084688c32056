import { ProviderConfigError } from '@payhook/core';
import { createSignedParamProvider } from '../src';
import { merchant, platformPublicPem } from './helpers';

const base = { platformPublicKey: platformPublicPem, country: 'PH' as const };
const statusQuery = {
  baseUrl: 'https://openapi.example',
  appId: 'a',
  merchantPrivateKey: merchant.privateKey,
};

describe('statusQuery: the status API options in their one shape', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  it('enables fetchStatus, without a warning', () => {
    const provider = createSignedParamProvider({
      ...base,
      statusQuery: { ...statusQuery, timeoutMs: 5_000 },
    });
    expect(typeof provider.fetchStatus).toBe('function');
    expect(provider.statusLookups).toEqual(['reference', 'orderId']);
    expect(warn).not.toHaveBeenCalled();
  });

  it('still takes the deprecated top-level names, warning once each per process', () => {
    const old = { ...base, ...statusQuery, queryTimeoutMs: 5_000 };
    expect(typeof createSignedParamProvider(old).fetchStatus).toBe('function');
    expect(typeof createSignedParamProvider(old).fetchStatus).toBe('function');
    expect(warn.mock.calls.map((call) => call[0])).toEqual([
      expect.stringMatching(/baseUrl is deprecated: give statusQuery\.baseUrl/),
      expect.stringMatching(/appId is deprecated: give statusQuery\.appId/),
      expect.stringMatching(
        /merchantPrivateKey is deprecated: give statusQuery\.merchantPrivateKey/,
      ),
      expect.stringMatching(/queryTimeoutMs is deprecated: give statusQuery\.timeoutMs/),
    ]);
    expect(warn.mock.calls[0]![1]).toMatchObject({ code: 'PAYHOOK_DEPRECATED_OPTION' });
  });

  it('refuses an old name with statusQuery', () => {
    for (const old of [{ baseUrl: 'https://x.example' }, { queryTimeoutMs: 5_000 }]) {
      const both = () => createSignedParamProvider({ ...base, ...old, statusQuery });
      expect(both).toThrow(ProviderConfigError);
      expect(both).toThrow(expect.objectContaining({ option: Object.keys(old)[0] }));
    }
  });
});
