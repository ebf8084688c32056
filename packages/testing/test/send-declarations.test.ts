import { cashySend } from '../src/cashy';
import { gatewayOptions } from '../src/cli/send-table';
import { SEND_GATEWAYS } from '../src/gateways';
import { captureCli } from './run-cli';

// `payhook send` has no gateway table of its own: its help, parsing and dispatch come from the
// declarations the fixture modules export. These tests hold it to that.

const run = (args: string[]) => captureCli(args, { env: {} });

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('payhook send, derived from the gateways declarations', () => {
  it('the help lists every declared gateway, event (with its summary) and option', async () => {
    const [main, send] = await Promise.all([run(['--help']), run(['send', '--help'])]);
    expect(main.stdout).toContain(`Gateways: ${SEND_GATEWAYS.map((g) => g.gateway).join(', ')}\n`);
    expect(SEND_GATEWAYS.map((g) => g.gateway)).toEqual([
      'newpay',
      'cashy',
      'signed-param',
      'lailaolab',
    ]);
    for (const g of SEND_GATEWAYS) {
      expect(send.stdout).toMatch(new RegExp(`^${escape(g.gateway)}: `, 'm'));
      for (const [name, event] of Object.entries(g.events)) {
        const firstWords = event.summary.split(' ').slice(0, 3).join(' ');
        expect(send.stdout).toMatch(new RegExp(`^  ${escape(name)} +${escape(firstWords)}`, 'm'));
      }
      for (const [flag, option] of Object.entries(g.options))
        expect(send.stdout).toMatch(
          new RegExp(`^  --${escape(flag)}${option.value ? ` ${escape(option.value)}` : ''} `, 'm'),
        );
    }
    expect(send.stdout.split('\n').filter((line) => line.length > 100)).toEqual([]);
  });

  it('an event no declaration has is refused, naming the declared ones', async () => {
    const runs = await Promise.all(
      SEND_GATEWAYS.map((g) => run(['send', g.gateway, 'nope', '--url', 'http://127.0.0.1:9/'])),
    );
    runs.forEach((r, i) => {
      const g = SEND_GATEWAYS[i]!;
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `payhook: ${g.gateway} has no event "nope" (one of ${Object.keys(g.events).join(', ')})\n` +
          'Run "payhook --help" for usage.\n',
      );
    });
    const unknown = await run(['send', 'stripe', 'payment']);
    expect(unknown.stderr).toContain(`(one of ${SEND_GATEWAYS.map((g) => g.gateway).join(', ')})`);
  });

  it('flags are the declared ones: others are refused, and declarations may not disagree', async () => {
    const stray = await run(['send', 'cashy', 'payment', '--url', 'http://127.0.0.1:9/', '--nope']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/^payhook: Unknown option '--nope'/);
    const options = gatewayOptions();
    expect(options).toMatchObject({ key: { type: 'string' }, v2: { type: 'boolean' } });
    const boolKey = { ...cashySend, options: { key: { type: 'boolean' as const, help: 'x' } } };
    expect(() => gatewayOptions([...SEND_GATEWAYS, boolKey])).toThrow(
      'cashy: --key clashes with another declaration of it',
    );
    const ownUrl = { ...cashySend, options: { url: { type: 'string' as const, help: 'x' } } };
    expect(() => gatewayOptions([ownUrl])).toThrow(/--url clashes/);
  });

  it('--url is required unless the declaration says the delivery goes another way', async () => {
    const [cashy, lailaolab] = await Promise.all([
      run(['send', 'cashy', 'payment']),
      run(['send', 'lailaolab', 'payment', '--simulator', 'http://127.0.0.1:9/']),
    ]);
    expect(cashy.stderr).toMatch(/^payhook: --url <your webhook endpoint> is required/);
    // Past the --url check: it tried the simulator instead (nothing listens on port 9).
    expect(lailaolab.code).toBe(3);
    expect(lailaolab.stderr).toMatch(/^payhook: could not reach the simulator at http:\/\/127/);
  });
});
