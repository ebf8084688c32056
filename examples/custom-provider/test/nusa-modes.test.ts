import { ProviderConfigError } from '@payhook/core';
import type { ModeKey } from '@payhook/core/plugin';
import { createNusaProvider, type NusaOptions } from '../src';
import { NusaStatusApi, notice, nusaHub } from './nusa-gateway';

/**
 * Test and live keys, as Midtrans's sandbox and production server keys: each environment has its
 * own key and its own status API, and a notice is confirmed by the API of the key that signed it.
 */
const LIVE_KEY = 'Mid-server-live';
const SANDBOX_KEY = 'SB-Mid-server-sandbox';
const live = new NusaStatusApi(LIVE_KEY);
const sandbox = new NusaStatusApi(SANDBOX_KEY);
beforeAll(() => Promise.all([live.listen(), sandbox.listen()]));
beforeEach(() => {
  live.asked.length = 0;
  sandbox.asked.length = 0;
});
afterAll(() => Promise.all([live.close(), sandbox.close()]));

const nusa = (options: Omit<NusaOptions, 'statusQuery'>) =>
  createNusaProvider({
    ...options,
    statusQuery: { baseUrl: live.baseUrl, sandboxBaseUrl: sandbox.baseUrl },
  });
const bothKeys: NusaOptions['serverKeys'] = [LIVE_KEY, { key: SANDBOX_KEY, mode: 'test' }];

describe('nusa: test and live keys', () => {
  it('a live mount that allows test mode: a sandbox notice is a test event, confirmed by the sandbox', async () => {
    sandbox.record('T-1');
    live.record('L-1');
    const { rec, post } = nusaHub(nusa({ serverKeys: bothKeys, allowTestMode: true }));
    expect((await post(notice('T-1', {}, SANDBOX_KEY))).outcome).toBe('processed');
    expect((await post(notice('L-1', {}, LIVE_KEY))).outcome).toBe('processed');
    expect(rec.events.map((e) => [e.id, e.mode, e.keyIndex])).toEqual([
      ['nusa:test:tx-T-1:paid', 'test', 1],
      ['nusa:tx-L-1:paid', 'live', 0],
    ]);
    // Each notice was confirmed by its own environment's status API, over real HTTP.
    expect(sandbox.asked).toEqual(['T-1']);
    expect(live.asked).toEqual(['L-1']);
  });

  it('a test mount: its bare key is a sandbox key, asked at the sandbox status API', async () => {
    sandbox.record('T-2');
    const { rec, post } = nusaHub(nusa({ serverKeys: [SANDBOX_KEY], mode: 'test' }));
    expect((await post(notice('T-2', {}, SANDBOX_KEY))).outcome).toBe('processed');
    expect(rec.events.map((e) => [e.id, e.mode])).toEqual([['nusa:test:tx-T-2:paid', 'test']]);
    expect([sandbox.asked, live.asked]).toEqual([['T-2'], []]);
  });

  it('a sandbox key on a live mount that does not allow test mode is refused at boot', () => {
    // Every delivery of that key would be refused (403 ERR_MODE_MISMATCH): core stops the app
    // instead, so that a sandbox key pasted into a live mount never goes unnoticed.
    expect(() => nusa({ serverKeys: bothKeys })).toThrow(ProviderConfigError);
    expect(() => nusa({ serverKeys: bothKeys })).toThrow(
      /serverKeys\[1\].*test key on a live mount/,
    );
  });

  it('a sandbox notice at a live mount that holds only the live key: 401, no status query, nothing emitted', async () => {
    sandbox.record('T-3');
    const { rec, post } = nusaHub(nusa({ serverKeys: [LIVE_KEY] }));
    const result = await post(notice('T-3', {}, SANDBOX_KEY));
    expect([result.outcome, result.reply.status]).toEqual(['rejected', 401]);
    expect([rec.events, live.asked, sandbox.asked]).toEqual([[], [], []]);
  });

  it('checks the key list and the status APIs at construction', () => {
    const option = (options: Partial<NusaOptions>) => {
      try {
        createNusaProvider({ serverKeys: [LIVE_KEY], ...options });
      } catch (error) {
        expect(error).toBeInstanceOf(ProviderConfigError);
        return (error as ProviderConfigError).option;
      }
      throw new Error('no error');
    };
    expect(option({ serverKeys: [] })).toBe('serverKeys');
    expect(option({ serverKeys: [LIVE_KEY, ' '] })).toBe('serverKeys[1]');
    const sandboxAsLive = { key: SANDBOX_KEY, mode: 'sandbox' } as unknown as ModeKey<string>;
    expect(option({ serverKeys: [LIVE_KEY, sandboxAsLive] })).toBe('serverKeys[1].mode');
    expect(option({ statusQuery: { sandboxBaseUrl: 'ftp://sandbox' } })).toBe(
      'statusQuery.sandboxBaseUrl',
    );
    expect(option({ statusQuery: { timeoutMs: 0 } })).toBe('statusQuery.timeoutMs');
  });
});
