import { ProviderConfigError } from '@payhook/core';
import { createNewpayProvider } from '../src';
import { keys, providerOptions } from './helpers';

const statusQuery = { mchId: 'MCH001', merchantPrivateKey: keys.merchant.privateKey };

describe('statusQuery: the status API options in their one shape', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  it('enables fetchStatus, without a warning', () => {
    const provider = createNewpayProvider(providerOptions({ statusQuery }));
    expect(typeof provider.fetchStatus).toBe('function');
    expect(provider.statusLookups).toEqual(['reference', 'orderId']);
    expect(warn).not.toHaveBeenCalled();
  });

  it('still takes the deprecated query, warning once per process', () => {
    const first = createNewpayProvider(providerOptions({ query: statusQuery }));
    const second = createNewpayProvider(providerOptions({ query: statusQuery }));
    expect(typeof first.fetchStatus).toBe('function');
    expect(typeof second.fetchStatus).toBe('function');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/query is deprecated: give statusQuery/);
    expect(warn.mock.calls[0]![1]).toMatchObject({ code: 'PAYHOOK_DEPRECATED_OPTION' });
  });

  it('names the deprecated option as given in its errors', () => {
    expect(() =>
      createNewpayProvider(providerOptions({ query: { ...statusQuery, baseUrl: 'ftp://x' } })),
    ).toThrow(expect.objectContaining({ option: 'query.baseUrl' }));
  });

  it('refuses query and statusQuery together', () => {
    const both = () => createNewpayProvider(providerOptions({ statusQuery, query: statusQuery }));
    expect(both).toThrow(ProviderConfigError);
    expect(both).toThrow(expect.objectContaining({ option: 'query' }));
  });
});
