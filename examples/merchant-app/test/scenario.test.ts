import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { runScenario, type ScenarioResult } from '../src';

// The scenario `npm start` runs: every gateway, simulators and test keys, real HTTP and socket.io.
describe('merchant app scenario', () => {
  let result: ScenarioResult;
  const lines: string[] = [];
  beforeAll(async () => {
    result = await runScenario({ log: (line) => lines.push(line) });
  });

  it('answers every delivery as the gateway expects', () => {
    const unexpected = result.steps.filter((s) => s.outcome !== s.expected);
    expect(unexpected).toEqual([]);
    expect(result.ok).toBe(true);
    for (const gateway of ['newpay', 'signed-param', 'cashy', 'lailaolab'])
      expect(
        result.steps.filter((s) => s.gateway === gateway && s.outcome === 'refused'),
      ).toHaveLength(gateway === 'lailaolab' ? 2 : 1);
  });

  it('leaves the order table in the state the deliveries describe', () => {
    const table = Object.fromEntries(
      result.orders.map((o) => [o.id, [o.status, o.paid, o.refunded, o.history.length]]),
    );
    expect(table).toEqual({
      'A-1001': ['partially refunded', '15000.00', '5000.00', 2],
      'A-1002': ['failed', null, '0', 1],
      'A-1003': ['pending', null, '0', 0],
      'A-1004': ['paid', '300.00', '0', 1],
      'B-2001': ['refunded', '500.10', '500.10', 2],
      'B-2002': ['failed', null, '0', 1],
      'B-2003': ['pending', null, '0', 0],
      'C-3001': ['paid', '100.10', '0', 1],
      'C-3002': ['failed', null, '0', 1],
      'C-3003': ['pending', null, '0', 0],
      'D-4001': ['paid', '100000', '0', 1],
      'D-4002': ['failed', null, '0', 1],
      'D-4003': ['paid', '35000', '0', 1],
      'D-4004': ['pending', null, '0', 0],
    });
  });

  it('logs each event, duplicate and refusal', () => {
    const text = lines.join('\n');
    expect(text.match(/duplicate of payment\.completed/g)).toHaveLength(4);
    expect(text.match(/refused: ERR_SIGNATURE_INVALID/g)).toHaveLength(3);
    // The webhook forgery is contradicted by the status API; the socket message (the secret
    // channel) that beats its record is "not yet": watched, nothing emitted.
    expect(text.match(/refused: ERR_STATUS_MISMATCH/g)).toHaveLength(1);
    expect(text.match(/refused: ERR_GATEWAY_API/g)).toHaveLength(1);
    expect(text).toContain('[paycools] payment.refunded order B-2001 500.10 PHP');
    expect(result.table.split('\n')[0]).toMatch(/^order\s+gateway\s+amount\s+status/);
  });
});

describe('npm start', () => {
  it('runs the scenario as a child process, prints the table and exits 0 by itself', () => {
    const root = path.join(__dirname, '..', '..', '..');
    const run = spawnSync(process.execPath, [path.join(root, 'scripts', 'start.js')], {
      cwd: root,
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, NEWPAY_APP_ID: '', CASHY_API_KEY: '' },
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^B-2001\s+paycools\s+500\.10 PHP\s+refunded/m);
    expect(run.stdout).toMatch(/21 deliveries in \d+ ms; each one answered as the gateway expects/);
  });
});
