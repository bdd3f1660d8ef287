/**
 * A real server process (the `kmip-server start` command) for tests that must
 * kill it (kill -9 crash tests) or run several nodes as separate processes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(repoRoot, 'src/cli/main.ts');

export interface ServerProcess {
  readonly host: string;
  readonly port: number;
  readonly pki: { ca: string; adminCert: string; adminKey: string };
  readonly child: ChildProcess;
  /** resolves with the exit code (null when killed by a signal) */
  readonly exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
  /** the last 20,000 characters the process printed */
  output(): string;
  /** signals the whole process group, as systemd or a container runtime does (needs `detached`) */
  killGroup(signal: NodeJS.Signals): void;
}

/**
 * Starts `kmip-server start` on 127.0.0.1 and a free port with DATA = dataDir
 * and the given extra configuration (YAML/JSON object), and waits until it listens.
 */
export async function spawnServer(
  dataDir: string,
  config: Record<string, unknown> = {},
  opts: { readonly detached?: boolean; readonly env?: Readonly<Record<string, string>> } = {},
): Promise<ServerProcess> {
  const configFile = path.join(dataDir, `server-${process.pid}-${Date.now()}.json`);
  await writeFile(configFile, JSON.stringify({ dataDir, listen: { host: '127.0.0.1', port: 0 }, ...config }));
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start', '--config', configFile], {
    cwd: repoRoot,
    env: { ...process.env, KMIP_LOG_LEVEL: 'info', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached === true,
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within 30 s:\n${output.slice(-2000)}`));
    }, 30_000);
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
      for (const line of output.split('\n')) {
        if (!line.includes('KMIP server listening')) continue;
        try {
          const port = (JSON.parse(line) as { port?: unknown }).port;
          if (typeof port === 'number') {
            clearTimeout(timer);
            resolve(port);
            return;
          }
        } catch {
          // not a JSON log line
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${output.slice(-2000)}`));
    });
  });
  const pkiDir = path.join(dataDir, 'pki');
  return {
    host: '127.0.0.1',
    port,
    pki: {
      ca: path.join(pkiDir, 'ca.crt'),
      adminCert: path.join(pkiDir, 'admin.crt'),
      adminKey: path.join(pkiDir, 'admin.key'),
    },
    child,
    exited,
    kill: (signal = 'SIGKILL') => {
      child.kill(signal);
    },
    output: () => output,
    killGroup: (signal) => {
      if (child.pid === undefined || opts.detached !== true) throw new Error('not a process group leader');
      process.kill(-child.pid, signal);
    },
  };
}
