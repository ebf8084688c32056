/**
 * What the READMEs say besides their code blocks, checked against the code: the shell commands'
 * scripts, CLI flags and environment variables, the exported names they list, the middleware
 * options every gateway README documents, the parser fix, links, and citations.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import * as core from '@payhook/core';
import * as corePlugin from '@payhook/core/plugin';
import * as coreTesting from '@payhook/core/testing';
import * as lailaolabPlugin from '@payhook/lailaolab-socket';
import { DEFAULT_QUERY_BASE_URL, createNewpayMiddleware } from '@payhook/newpay-callback';
import { createPayinMiddleware } from '@payhook/payin';
import * as postgres from '@payhook/postgres';
import { createSignedParamMiddleware } from '@payhook/signed-param';
import * as testing from '@payhook/testing';
import { ENV_VARS } from '../../examples/merchant-app/src/config';
import { CODE_LANGUAGES, EXAMPLES, ROOT, fencedBlocks, read } from './support';

const READMES = [
  'README.md',
  'packages/core/README.md',
  'packages/payin/README.md',
  'packages/newpay-callback/README.md',
  'packages/signed-param/README.md',
  'packages/lailaolab-socket/README.md',
  'packages/redis-store/README.md',
  'packages/inspector/README.md',
  'packages/postgres/README.md',
];
const GATEWAY_READMES = {
  'packages/payin/README.md': 'createPayinMiddleware',
  'packages/newpay-callback/README.md': 'createNewpayMiddleware',
  'packages/signed-param/README.md': 'createSignedParamMiddleware',
  'packages/lailaolab-socket/README.md': 'createLailaolabMiddleware',
};

const shellBlocks = (file: string) =>
  fencedBlocks(read(file)).filter((b) => b.lang === 'sh' || b.lang === 'bash');
const codeBlocks = (file: string) =>
  fencedBlocks(read(file)).filter((b) => CODE_LANGUAGES.has(b.lang));

describe.each(READMES)('%s', (file) => {
  const text = read(file);

  it('cites no private notes or source documents, only public pages and our own words', () => {
    expect(text).not.toMatch(/providers\.md|ARCHITECTURE|\.\.\/shared|\/work\/|§|\bseeds? \d/i);
  });

  it('links only to files that exist', () => {
    const dir = path.dirname(path.join(ROOT, file));
    const links = [...text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)]
      .map((m) => m[1]!)
      .filter((link) => !/^[a-z]+:/.test(link));
    for (const link of links)
      expect([link, existsSync(path.resolve(dir, link))]).toEqual([link, true]);
  });

  it('shows the typed parser fix, never the hook that fails strict TypeScript', () => {
    expect(text).not.toContain('req.rawBody = buf');
    for (const m of text.matchAll(/express\.json\(\{ verify: [^)]*\}\)/g))
      expect(m[0]).toBe('express.json({ verify: keepRawBody })');
  });

  it('names, in its code, only gateway environment variables the merchant example also reads', () => {
    // Variables for the status and API clients, which the merchant example does not use.
    const apiOnly = new Set([
      'NEWPAY_MCH_ID',
      'NEWPAY_MERCHANT_KEY',
      'NEWPAY_API_BASE',
      'CASHY_API_BASE',
      'PLATFORM_API_BASE',
      'PLATFORM_APP_ID',
      'MERCHANT_PRIVATE_KEY',
      'REDIS_URL',
      'PORT',
      // The inspector's login, which the merchant example reads too (examples/merchant-app/src/main.ts).
      'INSPECTOR_PASSWORD',
      // The database the merchant example also runs on when set (examples/merchant-app/src/app.ts).
      'DATABASE_URL',
      'PAYHOOK_SCHEMA',
    ]);
    const known = new Set<string>(Object.values(ENV_VARS).flat());
    const names = codeBlocks(file).flatMap((b) =>
      [...b.code.matchAll(/process\.env\.([A-Z0-9_]+)/g)].map((m) => m[1]!),
    );
    for (const name of names)
      expect([name, known.has(name) || apiOnly.has(name)]).toEqual([name, true]);
  });

  it('runs only npm scripts that exist, and files that exist', () => {
    const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>;
    for (const block of shellBlocks(file)) {
      for (const m of block.code.matchAll(/\bnpm run ([\w:-]+)/g))
        expect([m[1], m[1]! in scripts]).toEqual([m[1], true]);
      for (const m of block.code.matchAll(/^npm (start|test)\b/gm))
        expect([m[1], m[1]! in scripts]).toEqual([m[1], true]);
    }
  });
});

describe('README.md commands', () => {
  it('names CLI flags the payhook CLI has, including --app-id', async () => {
    // The commands' help, which is derived from the same declarations as their parsing.
    let cli = '';
    for (const command of ['send', 'keys', 'simulate'])
      expect(await testing.runCli([command, '--help'], { stdout: (t) => void (cli += t) })).toBe(0);
    expect(cli).toContain('--app-id <id>');
    const flags = shellBlocks('README.md').flatMap((b) =>
      b.code
        .replace(/\\\n/g, ' ')
        .split('\n')
        .filter((line) => line.includes('payhook '))
        .flatMap((line) =>
          [...line.replace(/#.*$/, '').matchAll(/\s(--[a-z-]+)/g)].map((m) => m[1]!),
        ),
    );
    expect(flags).toEqual(expect.arrayContaining(['--out', '--url', '--app-id', '--key']));
    for (const flag of flags) expect([flag, cli.includes(`  ${flag} `)]).toEqual([flag, true]);
    // "--forge" is named in the prose after the block.
    expect(read('README.md')).toContain('`--forge`');
    expect(cli).toContain('  --forge ');
  });

  it('the CLI is the "payhook" bin of @payhook/testing and prints its help', async () => {
    expect(JSON.parse(read('packages/testing/package.json')).bin).toHaveProperty('payhook');
    let out = '';
    const code = await testing.runCli(['--help'], { stdout: (t) => void (out += t) });
    expect(code).toBe(0);
    expect(out).toMatch(/payhook send/);
    expect(out).toMatch(/payhook keys/);
    expect(out).toMatch(/payhook simulate lailaolab/);
  });

  it('"npm start -- --help" lists the variables README.md exports, with the same names', () => {
    const result = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'start.js'), '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(result.status).toBe(0);
    const exported = [
      ...shellBlocks('README.md')
        .map((b) => b.code)
        .join('\n')
        .matchAll(/^export ((?:\w+=(?:"[^"]*"|\S+)\s*)+)$/gm),
    ].flatMap((m) => [...m[1]!.matchAll(/(\w+)=/g)].map((n) => n[1]!));
    expect(exported).toEqual(['NEWPAY_PLATFORM_PUBLIC_KEY', 'NEWPAY_APP_ID']);
    for (const name of [...exported, ...Object.values(ENV_VARS).flat()])
      expect(result.stdout).toContain(name);
    expect(read('packages/newpay-callback/README.md')).toContain(
      'process.env.NEWPAY_PLATFORM_PUBLIC_KEY',
    );
    expect(read('README.md')).not.toMatch(/NEWPAY_PUBLIC_KEY/);
  });

  it('".ci/run" and "npm run bench -- --quick" exist', () => {
    expect(existsSync(path.join(ROOT, '.ci', 'run'))).toBe(true);
    expect(read('README.md')).toContain('-- --quick');
    expect(read('bench/run.ts')).toContain("args.includes('--quick')");
  });
});

describe('packages/postgres/README.md commands', () => {
  const helps = [
    postgres.POSTGRES_HELP,
    postgres.MIGRATE_HELP,
    postgres.WORKER_HELP,
    postgres.DEAD_LETTERS_HELP,
  ].join('\n');
  const readme = read('packages/postgres/README.md');
  // Every line of a shell block that runs the bin, and the rows of the Commands table.
  const lines = [
    ...shellBlocks('packages/postgres/README.md').flatMap((b) => b.code.split('\n')),
    ...readme.split('\n').filter((line) => /^\| `(migrate|worker|dead-letters)` \|/.test(line)),
  ].filter((line) => line.includes('payhook-postgres') || line.startsWith('| `'));

  it('is the "payhook-postgres" bin of @payhook/postgres, no longer the testing CLI', () => {
    expect(JSON.parse(read('packages/postgres/package.json')).bin).toEqual({
      'payhook-postgres': 'bin/payhook-postgres.js',
    });
    // The deprecated spellings of @payhook/testing are named in prose only, never run.
    for (const block of shellBlocks('packages/postgres/README.md'))
      expect(block.code).not.toMatch(/\bpayhook (postgres|worker|dead-letters)\b/);
  });

  it('names only commands and flags the bin has (its help is where they are declared)', () => {
    expect(lines.length).toBeGreaterThanOrEqual(9);
    const commands = lines.flatMap((l) =>
      [...l.matchAll(/payhook-postgres ([a-z-]+)/g)].map((m) => m[1]!),
    );
    expect(new Set(commands)).toEqual(new Set(['migrate', 'worker', 'dead-letters']));
    const flags = lines.flatMap((l) =>
      [...l.replace(/#.*$/, '').matchAll(/(?<![\w-])(--[a-z-]+)/g)].map((m) => m[1]!),
    );
    expect(flags).toEqual(expect.arrayContaining(['--database-url', '--listeners', '--check']));
    for (const flag of new Set(flags))
      expect([flag, new RegExp(`(^|[\\s\\[])${flag}\\b`, 'm').test(helps)]).toEqual([flag, true]);
  });
});

describe('the plugin READMEs: createXMiddleware takes limit and onResult, returns .provider', () => {
  const hubWith = () => core.createPaymentHub();
  const newpay = testing.createNewpayFixtures();
  const cashy = testing.createCashyFixtures();
  const signedParam = testing.createSignedParamFixtures();
  const lailaolab = testing.createLailaolabFixtures();
  const mounts: Record<string, () => core.GatewayMiddleware> = {
    createNewpayMiddleware: () => createNewpayMiddleware(hubWith(), newpay.providerOptions),
    createPayinMiddleware: () => createPayinMiddleware(hubWith(), cashy.providerOptions),
    createSignedParamMiddleware: () =>
      createSignedParamMiddleware(hubWith(), signedParam.providerOptions),
    createLailaolabMiddleware: () =>
      lailaolabPlugin.createLailaolabMiddleware(hubWith(), lailaolab.providerOptions()),
  };

  it.each(Object.entries(GATEWAY_READMES))(
    '%s documents limit (default 65,536) and onResult, and the provider id',
    async (file, factory) => {
      const text = read(file);
      const rows = text.split('\n').filter((line) => line.startsWith('|'));
      const limitRow = rows.find((r) => /^\| `limit` +\|/.test(r));
      expect(limitRow).toMatch(/\| 65,536 +\|/);
      expect(rows.some((r) => /^\| `onResult` +\| none +\| .*ReceiveResult/.test(r))).toBe(true);
      expect(text).toContain(`\`${factory}(hub, options)\``);
      expect(text).toMatch(/returned with `\.provider`/);

      const middleware = mounts[factory]!();
      const providerId = /[Pp]rovider id: `([\w-]+)`/.exec(text)?.[1];
      expect(middleware.provider.id).toBe(providerId);
      const app = express().use('/hook', middleware);
      const pad = (bytes: number) => `{"p":"${'x'.repeat(bytes - 8)}"}`;
      const at = await request(app).post('/hook').type('application/json').send(pad(65_536));
      const over = await request(app).post('/hook').type('application/json').send(pad(65_537));
      expect(at.status).not.toBe(413);
      expect(over.status).toBe(413);
    },
  );
});

/** Every .ts file under a directory of the repository, relative to the root. */
function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(`${dir}/${entry.name}`)
      : entry.name.endsWith('.ts')
        ? [`${dir}/${entry.name}`]
        : [],
  );
}

/**
 * The members of an exported interface, read from its source (top level only), plus those of the
 * interfaces it extends that are listed in `inherited`.
 */
function interfaceMembers(pkg: string, name: string, inherited: Record<string, string[]> = {}) {
  const declaration = new RegExp(`export interface ${name}\\b`);
  const file = sourceFiles(`packages/${pkg}/src`).find((f) => declaration.test(read(f)));
  if (!file) throw new Error(`packages/${pkg}/src declares no interface ${name}`);
  const text = read(file);
  const start = text.search(declaration);
  const open = text.indexOf('{', start);
  const header = text.slice(start, open);
  let depth = 0;
  let end = open;
  for (; end < text.length; end++) {
    if (text[end] === '{') depth++;
    else if (text[end] === '}' && --depth === 0) break;
  }
  const body = text.slice(open + 1, end);
  const own = [...body.matchAll(/^ {2}(?:readonly )?(\w+)\??:/gm)].map((m) => m[1]!);
  const extended = Object.entries(inherited)
    .filter(([parent]) => new RegExp(`\\b${parent}\\b`).test(header))
    .flatMap(([, members]) => members);
  return [...own, ...extended];
}

const MAX_AGE_OPTIONS = interfaceMembers('core', 'MaxAgeOptions');
// `mode` and `allowTestMode`, which every gateway's options extend.
const MODE_OPTIONS = interfaceMembers('core', 'MountModeOptions');

describe('every option the code accepts has a row in its README', () => {
  const cases = [
    { readme: 'core', pkg: 'core', name: 'PaymentHubOptions', prefix: '' },
    { readme: 'payin', pkg: 'payin', name: 'PayinProviderOptions', prefix: '' },
    {
      readme: 'newpay-callback',
      pkg: 'newpay-callback',
      name: 'NewpayProviderOptions',
      prefix: '',
    },
    {
      readme: 'newpay-callback',
      pkg: 'newpay-callback',
      name: 'NewpayStatusQueryOptions',
      prefix: 'statusQuery.',
    },
    { readme: 'payin', pkg: 'payin', name: 'PayinStatusQueryOptions', prefix: 'statusQuery.' },
    {
      readme: 'signed-param',
      pkg: 'signed-param',
      name: 'SignedParamStatusQueryOptions',
      prefix: 'statusQuery.',
    },
    {
      readme: 'lailaolab-socket',
      pkg: 'lailaolab-socket',
      name: 'LailaolabStatusQueryOptions',
      prefix: 'statusQuery.',
    },
    {
      readme: 'signed-param',
      pkg: 'signed-param',
      name: 'SignedParamOptions',
      prefix: '',
    },
    {
      readme: 'lailaolab-socket',
      pkg: 'lailaolab-socket',
      name: 'LailaolabProviderOptions',
      prefix: '',
    },
    {
      readme: 'lailaolab-socket',
      pkg: 'lailaolab-socket',
      name: 'LailaolabSourceOptions',
      prefix: '',
    },
    {
      readme: 'lailaolab-socket',
      pkg: 'lailaolab-socket',
      name: 'LailaolabMiddlewareOptions',
      prefix: '',
    },
    {
      readme: 'redis-store',
      pkg: 'redis-store',
      name: 'RedisStoreOptions',
      prefix: '',
    },
    { readme: 'inspector', pkg: 'inspector', name: 'InspectorOptions', prefix: '' },
    { readme: 'inspector', pkg: 'inspector', name: 'PayhookMetricsOptions', prefix: '' },
    { readme: 'postgres', pkg: 'postgres', name: 'PostgresStoreOptions', prefix: '' },
    { readme: 'postgres', pkg: 'postgres', name: 'PostgresInboxOptions', prefix: '' },
    { readme: 'postgres', pkg: 'postgres', name: 'PaymentQueueOptions', prefix: '' },
    { readme: 'postgres', pkg: 'postgres', name: 'WorkerOptions', prefix: '' },
    { readme: 'postgres', pkg: 'postgres', name: 'AttachQueueOptions', prefix: '' },
  ];
  it.each(cases)('packages/$readme/README.md: $name', ({ readme, pkg, name, prefix }) => {
    const rows = read(`packages/${readme}/README.md`)
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) => line.split('|')[1]!.trim());
    const members = interfaceMembers(pkg, name, {
      MaxAgeOptions: MAX_AGE_OPTIONS,
      MountModeOptions: MODE_OPTIONS,
    });
    expect(members.length).toBeGreaterThan(0);
    // `name`, `name(args)`, or `name.child` rows (an options object documented by its members).
    const documented = (member: string) =>
      rows.some((cell) => new RegExp(`^\`${prefix}${member}[\`(.]`).test(cell));
    for (const member of members) expect([member, documented(member)]).toEqual([member, true]);
  });
});

describe('names the READMEs say are exported', () => {
  const names = (text: string) =>
    [...text.matchAll(/`([A-Za-z][A-Za-z0-9_]*)(?:\([^`]*\))?`/g)].map((m) => m[1]!);
  const paragraph = (file: string, start: string) => {
    const text = read(file);
    const at = text.indexOf(start);
    expect(at).toBeGreaterThan(-1);
    return text.slice(at, text.indexOf('\n\n', at));
  };
  /** From `start` to the next heading of the same level, or the end of the file. */
  const paragraphs = (file: string, start: string) => {
    const text = read(file);
    const at = text.indexOf(start);
    expect(at).toBeGreaterThan(-1);
    const next = text.indexOf('\n## ', at + start.length);
    return text.slice(at, next === -1 ? undefined : next);
  };

  it('core: the two entries, the plugin helpers table and @payhook/core/testing', () => {
    const entries = paragraph('packages/core/README.md', '| entry | for | what |').split('\n');
    const [mainRow, pluginRow] = [entries[2]!, entries[3]!].map((row) => names(row.split('|')[3]!));
    for (const name of mainRow!) expect([name, name in core]).toEqual([name, true]);
    for (const name of pluginRow!) expect([name, name in corePlugin]).toEqual([name, true]);
    // The merchant's entry is small: none of the toolkit leaks into it. The other way round, the
    // toolkit re-exports the root's errors and helpers a plugin uses (the section "Re-exported from
    // `@payhook/core`" of docs/plugin-toolkit.md), the same objects.
    const reexported = new Set(
      [
        ...paragraphs('docs/plugin-toolkit.md', '## Re-exported from `@payhook/core`').matchAll(
          /^- `([A-Za-z][A-Za-z0-9_]*)`/gm,
        ),
      ]
        .map((m) => m[1]!)
        .filter((name) => name in corePlugin),
    );
    expect(reexported.size).toBeGreaterThan(0);
    for (const name of Object.keys(corePlugin)) {
      if (reexported.has(name))
        expect([name, (core as Record<string, unknown>)[name]]).toEqual([
          name,
          (corePlugin as Record<string, unknown>)[name],
        ]);
      else expect([name, name in core]).toEqual([name, false]);
    }

    const table = paragraph('packages/core/README.md', '| area | exports |');
    const listed = table
      .split('\n')
      .slice(2)
      .flatMap((row) => names(row.split(/(?<!\\)\|/)[2]!))
      // Option names and placeholders in the table's explanations, not exports.
      .filter(
        (n) =>
          ![
            'numbers',
            'number',
            'text',
            'maxDepth',
            'createXMiddleware',
            'limit',
            'onResult',
            'createProvider',
            'maxAgeMs',
            'clockSkewMs',
          ].includes(n) && !n.startsWith('ERR_'),
      );
    expect(listed).toEqual(expect.arrayContaining(['readRawBody', 'createGatewayMiddleware']));
    // Error classes the explanations name are the merchant's entry's (`core`), the rest the plugin's.
    for (const name of listed)
      expect([name, name in (/Error$/.test(name) ? core : corePlugin)]).toEqual([name, true]);
    const testingLine = paragraph('packages/core/README.md', '`@payhook/core/testing`:');
    for (const name of names(testingLine).slice(1))
      expect([name, name in coreTesting]).toEqual([name, true]);
  });

  it('core: the errors table has every code of the catalogue, its status and its class', () => {
    const rows = read('packages/core/README.md')
      .split('\n')
      .filter((line) => line.startsWith('| `ERR_'));
    const documented = new Map<string, [string, string]>();
    for (const row of rows) {
      const [, codes, status, classes] = row.split('|').map((cell) => cell.trim());
      for (const code of names(codes!)) documented.set(code, [status!, classes!]);
      for (const name of names(classes!)) expect([name, name in core]).toEqual([name, true]);
    }
    for (const [code, httpStatus] of Object.entries(core.ERROR_CATALOGUE)) {
      expect([code, documented.has(code)]).toEqual([code, true]);
      const status = documented.get(code)![0];
      if (/^\d+$/.test(status)) expect([code, Number(status)]).toEqual([code, httpStatus]);
      else expect([code, httpStatus >= 500]).toEqual([code, true]); // "retry body" or "—"
    }
    expect([...documented.keys()].every((code) => code in core.ERROR_CATALOGUE)).toBe(true);
  });

  it('lailaolab-socket: what the plugin exports, and the simulator in @payhook/testing', () => {
    const text = paragraph('packages/lailaolab-socket/README.md', 'Also exported:');
    const [own, simulator] = text.split('The simulator');
    expect(simulator).toContain('is in `@payhook/testing`');
    for (const name of ['createLailaolabStatusClient', 'lailaolabSocketUrl', 'backoffDelay']) {
      expect(names(own!)).toContain(name);
      expect(name in lailaolabPlugin).toBe(true);
    }
    for (const name of [
      'startLailaolabSimulator',
      'buildLailaolabMessage',
      'formatLailaolabTime',
    ]) {
      expect(names(simulator!)).toContain(name);
      expect([name, name in testing]).toEqual([name, true]);
    }
  });

  it('newpay-callback: the default query URL in the reconcile example', () => {
    expect(read('packages/newpay-callback/README.md')).toContain(
      `unset: ${DEFAULT_QUERY_BASE_URL}`,
    );
  });

  it('examples/ holds no file that no README shows', () => {
    const shown = READMES.flatMap((f) => codeBlocks(f)).length;
    const helpers = ['record.ts', 'orders.ts', 'db.ts', 'shop.ts'];
    const files = readdirSync(EXAMPLES).filter((f) => !helpers.includes(f));
    expect(files).toHaveLength(shown);
  });
});

describe('the parser fix the READMEs show', () => {
  const cashy = testing.createCashyFixtures();
  const mount = (parser: express.RequestHandler) => {
    const hub = core.createPaymentHub();
    hub.on('payment.completed', () => undefined);
    return express().use(parser).use('/hook', createPayinMiddleware(hub, cashy.providerOptions));
  };

  it('without keepRawBody: 500 ERR_BODY_CONSUMED, whose message names the fix', async () => {
    const delivery = cashy.payin({ mchOrderNo: 'F-1' });
    const reply = await testing.sendFixture(request(mount(express.json())).post('/hook'), delivery);
    expect(reply.status).toBe(500);
    expect(reply.body.error.code).toBe('ERR_BODY_CONSUMED');
    expect(reply.body.error.message).toContain('express.json({ verify: keepRawBody })');
  });

  it('with keepRawBody: verified and acknowledged', async () => {
    const delivery = cashy.payin({ mchOrderNo: 'F-2' });
    const app = mount(express.json({ verify: core.keepRawBody }));
    const reply = await testing.sendFixture(request(app).post('/hook'), delivery);
    expect(testing.isAcknowledged(delivery, reply)).toBe(true);
  });
});
