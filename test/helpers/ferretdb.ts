/**
 * Starts a real FerretDB (v1.24, SQLite handler) on 127.0.0.1 and a free
 * port, in a fresh temporary directory, for the MongoDB store tests. The
 * binary is built by .ci/run; when it is missing this throws, never skips.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';

export interface FerretDb {
  /** mongodb://127.0.0.1:PORT/ */
  uri: string;
  port: number;
  /** the SQLite data directory (kept across restart()) */
  dataDir: string;
  /** SIGTERM, wait for exit, delete the data directory */
  stop(): Promise<void>;
  /** SIGKILL without cleanup, for outage tests; restart() brings it back */
  kill(): void;
  /** starts again on the same port and data; resolves once it answers */
  restart(): Promise<void>;
}

export function findFerretDbBinary(): string {
  const candidates: string[] = [];
  if (process.env.FERRETDB_BIN) candidates.push(process.env.FERRETDB_BIN);
  try {
    const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim();
    if (gopath) candidates.push(path.join(gopath.split(path.delimiter)[0] ?? gopath, 'bin', 'ferretdb'));
  } catch {
    // no Go toolchain: fall through to ~/go/bin
  }
  candidates.push(path.join(homedir(), 'go', 'bin', 'ferretdb'));
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined) {
    throw new Error(
      `FerretDB binary not found (looked in ${candidates.join(', ')}): run .ci/run, or build it as its ` +
        'FerretDB block does (go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2 with ' +
        'build/version/version.txt), or set FERRETDB_BIN',
    );
  }
  return found;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(uri: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`FerretDB exited (${child.exitCode ?? child.signalCode}): ${output()}`);
    }
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 500, connectTimeoutMS: 500 });
    try {
      await client.db('admin').command({ ping: 1 });
      return;
    } catch (err: unknown) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.close().catch(() => undefined);
    }
  }
  throw new Error(`FerretDB did not answer within 20 s: ${String(last)}; output: ${output()}`);
}

export async function startFerretDb(): Promise<FerretDb> {
  const bin = findFerretDbBinary();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-ferretdb-'));
  const port = await freePort();
  const uri = `mongodb://127.0.0.1:${port}/`;
  let child: ChildProcess | undefined;
  let output = '';

  const launch = async (): Promise<void> => {
    output = '';
    const c = spawn(
      bin,
      [
        '--handler=sqlite',
        `--sqlite-url=file:${dataDir}/`,
        `--state-dir=${dataDir}`,
        `--listen-addr=127.0.0.1:${port}`,
        // the default debug listener (127.0.0.1:8088) would collide between instances
        '--debug-addr=-',
        '--telemetry=disable',
        '--log-level=error',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (b: Buffer) => {
      output = (output + b.toString('utf8')).slice(-4000);
    };
    c.stdout?.on('data', keep);
    c.stderr?.on('data', keep);
    child = c;
    await waitUntilUp(uri, c, () => output);
  };

  const exited = (c: ChildProcess): Promise<void> =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise((resolve) => c.once('exit', () => resolve()));

  try {
    await launch();
  } catch (err: unknown) {
    child?.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }

  return {
    uri,
    port,
    dataDir,
    async stop() {
      const c = child;
      child = undefined;
      if (c) {
        c.kill('SIGTERM');
        const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
        await exited(c);
        clearTimeout(timer);
      }
      await rm(dataDir, { recursive: true, force: true });
    },
    kill() {
      child?.kill('SIGKILL');
    },
    async restart() {
      const c = child;
      if (c) {
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
        await exited(c);
      }
      await launch();
    },
  };
}
