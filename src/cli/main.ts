#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCli } from './run.js';

export type { CliIo } from './io.js';
export { runCli, USAGE } from './run.js';

function isMain(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    // npm installs the bin as a symlink; compare real paths.
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

const EXIT_GRACE_MS = 1000;

if (isMain()) {
  const io = {
    out: (s: string) => process.stdout.write(s),
    err: (s: string) => process.stderr.write(s),
  };
  // A command that is done exits even if a handle lingers (a store driver's
  // reconnect timer, a cluster worker's IPC channel): a failed start must end
  // so that a supervisor restarts it. The grace lets file log transports flush.
  const exitSoon = (code: number) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  };
  runCli(process.argv.slice(2), io).then(exitSoon, (err: unknown) => {
    console.error(err);
    exitSoon(1);
  });
}
