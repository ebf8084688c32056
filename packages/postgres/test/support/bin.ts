import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

/** The package's bin, as `npx payhook-postgres` runs it (here on the sources, through tsx). */
export const BIN = path.resolve(__dirname, '..', '..', 'bin', 'payhook-postgres.js');

export interface BinRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface BinProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal) once the process ended. */
  exited: Promise<number | null>;
}

/** The environment without DATABASE_URL (each test says whether it has one). */
function baseEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const { DATABASE_URL: _unused, ...rest } = process.env;
  return { ...rest, ...env };
}

/** Starts `node <bin> ...args` with its output collected. */
export function startBin(
  bin: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): BinProcess {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: baseEnv(options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = once(child, 'close').then(([code]) => code as number | null);
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs `node <bin> ...args` to its end. */
export async function runBin(
  bin: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<BinRun> {
  const run = startBin(bin, args, options);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}
