/**
 * The conformance suite under each test framework a plugin author may use, written as
 * docs/writing-a-provider.md shows it: conformance.test.ts (jest, this run), conformance.node-test.ts
 * (node:test) and conformance.vitest.ts (vitest: type-checked only, vitest is not installed here).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.join(__dirname, '..', '..', '..');
const spawn = (args: string[]) =>
  spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 60_000 });

describe('runProviderConformance with jest, node:test and vitest', () => {
  it('the three test files type-check under strict TypeScript', () => {
    const tsc = require.resolve('typescript/bin/tsc');
    const config = path.join(__dirname, 'tsconfig.harnesses.json');
    const result = spawn([tsc, '--strict', '--noEmit', '-p', config]);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('passes under node --test, with describe/it from node:test', () => {
    const file = path.join(__dirname, 'conformance.node-test.ts');
    const result = spawn(['--import', 'tsx', '--test', file]);
    expect(result.stdout).toMatch(/^# fail 0$/m);
    // acme: genuine, duplicate, failing listener, not a payment, tampered, wrong key, malformed
    expect(result.stdout).toMatch(/^# pass 7$/m);
    expect(result.status).toBe(0);
  });
});
