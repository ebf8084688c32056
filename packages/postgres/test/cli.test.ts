import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import {
  createPaymentQueue,
  DEAD_LETTERS_HELP,
  MIGRATIONS,
  MIGRATE_HELP,
  POSTGRES_HELP,
  WORKER_HELP,
} from '../src';
import { BIN, runBin, startBin, type BinProcess } from './support/bin';
import { DATABASE_URL, dropSchema, testPool, testSchema } from './support/db';
import { completedEvent } from './support/event';

/** The `payhook-postgres` bin, spawned as a merchant runs it, against the real PostgreSQL. */
let pool: Pool;
const schemas: string[] = [];
const fresh = (label: string): string => {
  const schema = testSchema(label);
  schemas.push(schema);
  return schema;
};
const started: BinProcess[] = [];
const scratch = mkdtempSync(path.join(tmpdir(), 'payhook-pg-cli-'));

beforeAll(() => {
  pool = testPool({ max: 2 });
});
afterAll(async () => {
  for (const run of started) if (run.child.exitCode === null) run.child.kill('SIGKILL');
  await Promise.all(started.map((r) => r.exited));
  for (const schema of schemas) await dropSchema(pool, schema);
  await pool.end();
  rmSync(scratch, { recursive: true, force: true });
});

// Each run starts node and tsx (a second or more on a loaded 2-core machine): a few at a time.
jest.setTimeout(120_000);
const bin = (args: string[], env: Record<string, string> = {}) =>
  runBin(BIN, args, { env, cwd: scratch });
async function binAll(runs: Array<[string[], Record<string, string>?]>) {
  const results = [];
  for (let i = 0; i < runs.length; i += 3)
    results.push(...(await Promise.all(runs.slice(i, i + 3).map(([a, e]) => bin(a, e)))));
  return results;
}
const schemaExists = async (schema: string): Promise<boolean> =>
  (await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;

describe('payhook-postgres migrate', () => {
  it('--check exits 1 naming what is missing, --database-url applies, DATABASE_URL is the default', async () => {
    const schema = fresh('bin_migrate');
    const before = await bin([
      'migrate',
      '--check',
      '--database-url',
      DATABASE_URL,
      '--schema',
      schema,
    ]);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain(
      `schema "${schema}" lacks migration ${MIGRATIONS.map((m) => m.name).join(', ')}: run "payhook-postgres migrate --schema ${schema}"`,
    );
    expect(await schemaExists(schema)).toBe(false);

    const applied = await bin(['migrate', '--database-url', DATABASE_URL, '--schema', schema]);
    expect(applied).toMatchObject({ code: 0, stderr: '' });
    expect(applied.stdout).toMatch(
      /^payhook-postgres migrate: applied 001_processed, 002_inbox, 003_watch_list/,
    );

    // No flag: $DATABASE_URL.
    const again = await bin(['migrate', '--schema', schema], { DATABASE_URL });
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toContain(`schema "${schema}" is up to date (version`);
    const check = await bin(['migrate', '--schema', schema, '--check'], { DATABASE_URL });
    expect(check).toMatchObject({
      code: 0,
      stdout: `payhook-postgres migrate: schema "${schema}" is up to date\n`,
    });
  });

  it('--database-url wins over DATABASE_URL; an unreachable database exits 1', async () => {
    const schema = fresh('bin_flag_wins');
    const unreachable = 'postgres://postgres@127.0.0.1:1/test';
    const down = await bin(['migrate', '--database-url', unreachable, '--schema', schema], {
      DATABASE_URL,
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toBe('payhook-postgres migrate: connect ECONNREFUSED 127.0.0.1:1\n');
    const up = await bin(['migrate', '--database-url', DATABASE_URL, '--schema', schema], {
      DATABASE_URL: unreachable,
    });
    expect(up.code).toBe(0);
    expect(await schemaExists(schema)).toBe(true);
  });

  it('--url is refused (exit 2, naming --database-url) and nothing is created', async () => {
    const schema = fresh('bin_url');
    for (const args of [['--url', DATABASE_URL], [`--url=${DATABASE_URL}`]]) {
      const run = await bin(['migrate', ...args, '--schema', schema]);
      expect(run).toMatchObject({ code: 2, stdout: '' });
      expect(run.stderr).toBe(
        `payhook-postgres: --url is not an option: use --database-url <url>\n\n${MIGRATE_HELP}`,
      );
    }
    expect(await schemaExists(schema)).toBe(false);
  });
});

describe('payhook-postgres usage and help', () => {
  it('help, --help and each command --help print the help once written, exit 0', async () => {
    const runs = await binAll([
      [['help']],
      [['--help']],
      [['migrate', '--help']],
      [['worker', '-h']],
      [['help', 'dead-letters']],
    ]);
    expect(runs.map((r) => [r.code, r.stdout, r.stderr])).toEqual([
      [0, POSTGRES_HELP, ''],
      [0, POSTGRES_HELP, ''],
      [0, MIGRATE_HELP, ''],
      [0, WORKER_HELP, ''],
      [0, DEAD_LETTERS_HELP, ''],
    ]);
  });

  it('no command, an unknown command or flag, a missing value or database: exit 2 with the help', async () => {
    const env = { DATABASE_URL };
    const cases: Array<[string[], Record<string, string>, string, string]> = [
      [[], env, 'no command', POSTGRES_HELP],
      [['vacuum'], env, 'unknown command "vacuum"', POSTGRES_HELP],
      [['migrate', '--frobnicate'], env, "Unknown option '--frobnicate'", MIGRATE_HELP],
      [['migrate', '--schema'], env, "Option '--schema <value>' argument missing", MIGRATE_HELP],
      [['migrate'], {}, 'no database: pass --database-url <url> or set DATABASE_URL', MIGRATE_HELP],
      [['worker'], env, '--listeners <module> is required', WORKER_HELP],
      [
        ['worker', '--listeners', 'x.js', '--concurrency', 'many'],
        env,
        '--concurrency must be a whole number of at least 1, not "many"',
        WORKER_HELP,
      ],
      [
        ['dead-letters', 'purge'],
        env,
        'expected list, retry <event id>, retry-all or stats',
        DEAD_LETTERS_HELP,
      ],
      [
        ['dead-letters', 'retry'],
        env,
        'expected list, retry <event id>, retry-all or stats',
        DEAD_LETTERS_HELP,
      ],
      [
        ['dead-letters', 'stats', '--url', DATABASE_URL],
        {},
        '--url is not an option: use --database-url <url>',
        DEAD_LETTERS_HELP,
      ],
    ];
    const runs = await binAll(cases.map(([args, e]) => [args, e]));
    runs.forEach((run, i) => {
      const [args, , message, help] = cases[i]!;
      expect([args, run.code, run.stdout, run.stderr]).toEqual([
        args,
        2,
        '',
        `payhook-postgres: ${message}\n\n${help}`,
      ]);
    });
  });
});

describe('payhook-postgres worker and dead-letters', () => {
  const event = completedEvent;

  it('runs the --listeners module on a queued event and exits 0 on SIGTERM; dead-letters reads the queue', async () => {
    const schema = fresh('bin_worker');
    expect((await bin(['migrate', '--database-url', DATABASE_URL, '--schema', schema])).code).toBe(
      0,
    );
    await pool.query(
      `CREATE TABLE "${schema}".effects (event_id text NOT NULL, attempt int NOT NULL)`,
    );
    writeFileSync(
      path.join(scratch, 'listeners.js'),
      `exports.register = (queue) => {
  queue.on('payment.completed', async (event, { tx, attempt }) => {
    await tx.query('INSERT INTO "${schema}".effects (event_id, attempt) VALUES ($1, $2)', [event.id, attempt]);
  });
};
`,
    );
    const worker = startBin(
      BIN,
      ['worker', '--listeners', './listeners.js', '--schema', schema, '--concurrency', '2'],
      { env: { DATABASE_URL }, cwd: scratch },
    );
    started.push(worker);
    const queue = createPaymentQueue({ pool, schema });
    try {
      expect(await queue.enqueue(event('W1'))).toBe(true);
    } finally {
      await queue.stop();
    }
    const deadline = Date.now() + 30_000;
    let rows: unknown[] = [];
    while (rows.length === 0 && Date.now() < deadline && worker.child.exitCode === null) {
      rows = (await pool.query(`SELECT event_id, attempt FROM "${schema}".effects`)).rows;
      if (rows.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect([rows, worker.stderr()]).toEqual([
      [{ event_id: 'test-gateway:W1:paid', attempt: 1 }],
      '',
    ]);
    expect(worker.stdout()).toMatch(/^payhook-postgres worker: started \(pid \d+\)\n/);

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.stdout()).toContain('payhook-postgres worker: stopped {"done":1,');

    const stats = await bin([
      'dead-letters',
      'stats',
      '--database-url',
      DATABASE_URL,
      '--schema',
      schema,
    ]);
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ depth: 0, dead: 0 });
    const retry = await bin(['dead-letters', 'retry', 'test-gateway:W1:paid', '--schema', schema], {
      DATABASE_URL,
    });
    expect(retry).toMatchObject({ code: 1, stderr: 'no dead letter test-gateway:W1:paid\n' });
  });

  it('a listeners module without a register function is a usage error', async () => {
    writeFileSync(path.join(scratch, 'empty.js'), 'exports.nothing = 1;\n');
    const run = await bin(['worker', '--listeners', 'empty.js'], { DATABASE_URL });
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toBe(
      `payhook-postgres: --listeners empty.js exports no register(queue) function\n\n${WORKER_HELP}`,
    );
  });
});
