import { execFile } from 'node:child_process';
import path from 'node:path';
import { Pool } from 'pg';
import { DEAD_LETTERS_HELP, MIGRATE_HELP, POSTGRES_HELP, WORKER_HELP } from '@payhook/postgres';
import { captureCli } from './run-cli';

// `payhook postgres migrate`, `payhook worker` and `payhook dead-letters` are deprecated aliases of
// @payhook/postgres's own bin (payhook-postgres): one stderr line, then the same command runs,
// against the machine's real PostgreSQL.
const URL = process.env.PAYHOOK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `payhook_t_cli_${process.pid}_${Date.now().toString(36)}`;
const admin = new Pool({ connectionString: URL, max: 1 });
const BIN = path.join(__dirname, '..', 'bin', 'payhook.js');

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

const deprecated = (old: string, now: string, url = false): string =>
  `payhook: "${old}" is deprecated: run "${now} …" (the bin of @payhook/postgres)` +
  `${url ? ', with --database-url instead of --url' : ''}\n`;

/** The real bin, spawned: what a merchant's script sees on stderr. */
function payhook(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

describe('payhook postgres migrate (deprecated)', () => {
  it('says so on stderr, then --check, migrate and --url run as payhook-postgres migrate', async () => {
    const env = { DATABASE_URL: URL };
    const before = await payhook(['postgres', 'migrate', '--schema', schema, '--check'], env);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(
      /^payhook: "payhook postgres migrate" is deprecated: run "payhook-postgres migrate …" \(the bin of @payhook\/postgres\)\n/,
    );
    expect(before.stderr).toContain('lacks migration 001_processed');

    // The old flag still works through the alias, renamed to --database-url.
    const applied = await captureCli(['postgres', 'migrate', '--url', URL, '--schema', schema]);
    expect(applied).toMatchObject({
      code: 0,
      stderr: deprecated('payhook postgres migrate', 'payhook-postgres migrate', true),
    });
    expect(applied.stdout).toContain(`applied 001_processed`);
    const { rows } = await admin.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1`,
      [schema],
    );
    expect(rows[0].n).toBeGreaterThan(0);

    const again = await captureCli(['postgres', 'migrate', '--schema', schema], { env });
    expect(again).toMatchObject({
      code: 0,
      stderr: deprecated('payhook postgres migrate', 'payhook-postgres migrate'),
    });
    expect(again.stdout).toContain('is up to date');
    const check = await captureCli(['postgres', 'migrate', '--schema', schema, '--check'], { env });
    expect(check.code).toBe(0);
  });

  it("prints @payhook/postgres's help, not a copy; an unknown command is a usage error", async () => {
    const help = await captureCli(['postgres', 'migrate', '--help']);
    expect(help).toMatchObject({ code: 0, stdout: MIGRATE_HELP });
    const all = await captureCli(['postgres', '--help']);
    expect(all).toMatchObject({
      code: 0,
      stdout: POSTGRES_HELP,
      stderr: deprecated('payhook postgres', 'payhook-postgres'),
    });
    const vacuum = await captureCli(['postgres', 'vacuum']);
    expect(vacuum.code).toBe(2);
    expect(vacuum.stderr).toContain('unknown command "vacuum"');
  });
});

describe('payhook worker and payhook dead-letters (deprecated)', () => {
  it('say so on stderr and run payhook-postgres worker / dead-letters', async () => {
    const worker = await captureCli(['worker', '--help']);
    expect(worker).toMatchObject({
      code: 0,
      stdout: WORKER_HELP,
      stderr: deprecated('payhook worker', 'payhook-postgres worker'),
    });
    const dead = await captureCli(['dead-letters', '--help']);
    expect(dead).toMatchObject({
      code: 0,
      stdout: DEAD_LETTERS_HELP,
      stderr: deprecated('payhook dead-letters', 'payhook-postgres dead-letters'),
    });
    // Without --listeners the worker refuses to start: nothing would process the queue.
    const refused = await captureCli(['worker'], { env: { DATABASE_URL: URL } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--listeners <module> is required');
  });

  it('the spawned bin: the deprecation line, then the stats of the queue', async () => {
    const stats = await payhook(['dead-letters', 'stats', '--schema', schema], {
      DATABASE_URL: URL,
    });
    expect(stats).toMatchObject({
      code: 0,
      stderr: deprecated('payhook dead-letters', 'payhook-postgres dead-letters'),
    });
    expect(JSON.parse(stats.stdout)).toMatchObject({ depth: 0, dead: 0 });
  });

  it('the main help lists them as deprecated, naming payhook-postgres', async () => {
    const help = await captureCli(['--help']);
    expect(help.stdout).toMatch(
      /Deprecated[^\n]*\n {2}payhook postgres migrate …\s+now: payhook-postgres migrate/,
    );
    expect(help.stdout).toMatch(/ {2}payhook worker …\s+now: payhook-postgres worker/);
    expect(help.stdout).toMatch(/ {2}payhook dead-letters …\s+now: payhook-postgres dead-letters/);
  });
});
