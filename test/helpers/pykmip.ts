/**
 * Runs the PyKMIP client scripts of the integration tests (Debian's
 * python3-pykmip, run with /usr/bin/python3). Each script prints one JSON
 * document of steps; a failed KMIP result is data, not a crash.
 */
import { execFile } from 'node:child_process';
import type { TestServer } from './server.js';

export const PYTHON = process.env.PYKMIP_PYTHON ?? '/usr/bin/python3';

export interface PyStepError {
  type: string;
  status?: string;
  reason?: string;
  message: string | null;
}

export interface PyStep {
  step: string;
  ok: boolean;
  value?: unknown;
  error?: PyStepError;
}

export interface PyRun {
  ok: boolean;
  version: string;
  steps: PyStep[];
}

export function hasPyKmip(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(PYTHON, ['-c', 'import kmip.pie.client, cryptography'], (err) => resolve(!err));
  });
}

/** Skips the suite when PyKMIP is missing, except under CI where that is a failure. */
export async function requirePyKmip(ctx: Mocha.Context): Promise<void> {
  if (await hasPyKmip()) return;
  const why = `${PYTHON} cannot import kmip (apt-get install python3-pykmip)`;
  if (process.env.CI) throw new Error(why);
  console.warn(`skipping: ${why}`);
  ctx.skip();
}

/** Runs `script` against `server` at `version` and parses its JSON document. */
export function runPyKmipScript(
  script: string,
  server: TestServer,
  version: string,
  timeoutMs = 120_000,
): Promise<PyRun> {
  const args = [
    script,
    '--host',
    server.host,
    '--port',
    String(server.port),
    '--ca',
    server.pki.ca,
    '--cert',
    server.pki.adminCert,
    '--key',
    server.pki.adminKey,
    '--version',
    version,
  ];
  return new Promise((resolve, reject) => {
    execFile(PYTHON, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(err);
        return;
      }
      try {
        resolve(JSON.parse(stdout) as PyRun);
      } catch {
        reject(
          new Error(
            `${script} ${version} exited ${err?.code ?? 0} with no JSON\nstdout: ${stdout}\nstderr: ${stderr}`,
          ),
        );
      }
    });
  });
}

export function stepOf(run: PyRun | undefined, name: string): PyStep {
  if (run === undefined) throw new Error('the script did not run');
  const found = run.steps.find((s) => s.step === name);
  if (found === undefined)
    throw new Error(`step ${name} did not run at ${run.version}: ${JSON.stringify(run.steps)}`);
  return found;
}

/** The value of a step that must have succeeded. */
export function okValue(run: PyRun | undefined, name: string): unknown {
  const s = stepOf(run, name);
  if (!s.ok) throw new Error(`${name} at ${run?.version} failed: ${JSON.stringify(s.error)}`);
  return s.value;
}
