import { Pool } from 'pg';
import { DEAD_LETTERS_HELP, WORKER_HELP } from '@payhook/postgres';
import { captureCli } from './run-cli';

// `payhook postgres migrate` forwards to @payhook/postgres against the machine's real PostgreSQL.
const URL = process.env.PAYHOOK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `payhook_t_cli_${process.pid}_${Date.now().toString(36)}`;
const admin = new Pool({ connectionString: URL, max: 1 });

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

describe('payhook postgres', () => {
  it('--check names what is missing, migrate applies it, a second run has nothing to do', async () => {
    const env = { DATABASE_URL: URL };
    const before = await captureCli(['postgres', 'migrate', '--schema', schema, '--check'], {
      env,
    });
    expect(before.code).toBe(1);
    expect(before.stderr).toContain('001_processed');

    const applied = await captureCli(['postgres', 'migrate', '--schema', schema], { env });
    expect(applied).toMatchObject({ code: 0 });
    expect(applied.stdout).toContain(`applied 001_processed`);
    const { rows } = await admin.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1`,
      [schema],
    );
    expect(rows[0].n).toBeGreaterThan(0);

    const again = await captureCli(['postgres', 'migrate', '--schema', schema], { env });
    expect(again).toMatchObject({ code: 0 });
    expect(again.stdout).toContain('is up to date');
    const check = await captureCli(['postgres', 'migrate', '--schema', schema, '--check'], { env });
    expect(check.code).toBe(0);
  });

  it('worker and dead-letters are forwarded to @payhook/postgres', async () => {
    expect(await captureCli(['worker', '--help'])).toMatchObject({ code: 0, stdout: WORKER_HELP });
    const dead = await captureCli(['dead-letters', '--help']);
    expect(dead).toMatchObject({ code: 0, stdout: DEAD_LETTERS_HELP });
    // Without --listeners the worker refuses to start: nothing would process the queue.
    expect((await captureCli(['worker'], { env: { DATABASE_URL: URL } })).code).toBe(2);
  });

  it('an unknown postgres command is a usage error, and --help lists migrate', async () => {
    expect(await captureCli(['postgres', 'vacuum'])).toMatchObject({ code: 2 });
    const help = await captureCli(['postgres', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('payhook postgres migrate');
  });
});
