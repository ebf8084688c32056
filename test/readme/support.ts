import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const EXAMPLES = path.join(__dirname, 'examples');

export const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

/** Languages whose blocks must be example files that run. */
export const CODE_LANGUAGES = new Set([
  'ts',
  'typescript',
  'js',
  'javascript',
  'tsx',
  'jsx',
  'mjs',
  'cjs',
]);

export interface Block {
  lang: string;
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** Every fenced block of a Markdown text, in order, with its language and exact content. */
export function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const fence = /^```([^\n`]*)\n([\s\S]*?)^```[ \t]*$/gm;
  for (const m of markdown.matchAll(fence)) {
    blocks.push({
      lang: m[1]!.trim(),
      code: m[2]!,
      line: markdown.slice(0, m.index).split('\n').length,
    });
  }
  return blocks;
}

/** The lines between `// #region readme` and `// #endregion` of an example file, as text. */
export function readmeRegion(file: string): string {
  const text = readFileSync(path.join(EXAMPLES, file), 'utf8');
  const start = text.indexOf('// #region readme\n');
  const end = text.indexOf('// #endregion\n');
  if (
    start === -1 ||
    end === -1 ||
    end < start ||
    text.indexOf('// #region readme', start + 1) !== -1
  )
    throw new Error(`${file} needs exactly one "// #region readme" ... "// #endregion" pair`);
  return text.slice(start + '// #region readme\n'.length, end);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A call the examples' stand-ins for "your own code" printed (see examples/record.ts). */
export interface RecordedCall {
  call: string;
  args: unknown[];
}

export interface RunningExample {
  url: string;
  port: number;
  stdout(): string;
  stderr(): string;
  /** The stand-in calls printed so far. */
  calls(name?: string): RecordedCall[];
  /** SIGTERM; resolves with the exit code or signal, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  process: ChildProcess;
}

/**
 * Runs an example file as the reader would run it (`node --import tsx file.ts`) with `env` and a
 * free PORT, and resolves once it accepts connections (unless `waitForPort` is false).
 */
export async function startExample(
  file: string,
  env: Record<string, string | undefined>,
  options: { waitForPort?: boolean } = {},
): Promise<RunningExample> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(EXAMPLES, file)], {
    cwd: ROOT,
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: path.join(ROOT, 'tsconfig.json'),
      PORT: String(port),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const url = `http://127.0.0.1:${port}`;
  const running: RunningExample = {
    url,
    port,
    process: child,
    exited,
    stdout: () => out,
    stderr: () => err,
    calls: (name) =>
      out
        .split('\n')
        .filter((line) => line.startsWith('{"call":'))
        .map((line) => JSON.parse(line) as RecordedCall)
        .filter((c) => name === undefined || c.call === name),
    async stop(graceMs = 5_000) {
      if (!hasExited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const result = await exited;
        clearTimeout(timer);
        return result;
      }
      return exited;
    },
  };
  if (options.waitForPort !== false) {
    try {
      await waitFor(
        `${file} to listen on ${port}`,
        async () => {
          if (hasExited) throw new Error(`${file} exited early:\n${err}`);
          return fetch(`${url}/`).then(
            () => true,
            () => false,
          );
        },
        20_000,
      );
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }
  return running;
}
