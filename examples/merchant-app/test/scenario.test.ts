import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
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
      // Its webhook lost: settled by Cashy's status API.
      'C-3004': ['paid', '60.00', '0', 1],
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
    // The other: Cashy asked about C-3003 (its payin was forged, so Cashy knows no payment).
    expect(text.match(/refused: ERR_GATEWAY_API/g)).toHaveLength(2);
    expect(text).toContain('[cashy] payment.completed order C-3004 60.00 IDR');
    expect(text).toMatch(/status query: 1 recovered; C-3004 settled by status-query/);
    expect(text).toContain('[paycools] payment.refunded order B-2001 500.10 PHP');
    expect(result.table.split('\n')[0]).toMatch(/^order\s+gateway\s+amount\s+status/);
  });
});

describe('npm start', () => {
  it('with --once: runs the scenario as a child process, prints the table and exits 0 by itself', () => {
    const root = path.join(__dirname, '..', '..', '..');
    const run = spawnSync(process.execPath, [path.join(root, 'scripts', 'start.js'), '--once'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, NEWPAY_APP_ID: '', CASHY_API_KEY: '' },
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^B-2001\s+paycools\s+500\.10 PHP\s+refunded/m);
    expect(run.stdout).toMatch(/22 deliveries in \d+ ms; each one answered as the gateway expects/);
  });
});

/** A port free right now (the child listens on it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('npm start without --once', () => {
  it('keeps serving the shop with the inspector (URL and login printed) until Ctrl-C', async () => {
    const root = path.join(__dirname, '..', '..', '..');
    const port = await freePort();
    // Its own process group, so that "Ctrl-C" reaches start.js and the example it runs, as a
    // terminal's would.
    const child = spawn(process.execPath, [path.join(root, 'scripts', 'start.js')], {
      cwd: root,
      detached: true,
      env: { ...process.env, PORT: String(port), NEWPAY_APP_ID: '', CASHY_API_KEY: '' },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + 25_000;
      while (!/serving until Ctrl-C/.test(out) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      const match = /inspector: (\S+)\s+\(login (\S+) \/ (\S+)\)/.exec(out);
      expect(match).not.toBeNull();
      const [, url, user, password] = match!;
      expect(url).toBe(`http://127.0.0.1:${port}/payhook/`);
      expect((await fetch(url!)).status).toBe(401);
      const page = await fetch(url!, {
        headers: {
          authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
        },
      });
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('ERR_SIGNATURE_INVALID');
      expect(html).toMatch(/<td class="gateway">(newpay|paycools|cashy|lailaolab)<\/td>/);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(
        /payhook_deliveries_total\{provider="cashy",outcome="processed",code="none"\} 3/,
      );
    } finally {
      process.kill(-child.pid!, 'SIGINT');
    }
    expect(await exited).toBe(0);
  }, 40_000);
});
