import { runCli } from '../../src/cli/run.js';

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs the CLI in this process and captures what it prints. */
export async function runCliCaptured(argv: readonly string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await runCli([...argv], {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
  });
  return { code, out, err };
}
