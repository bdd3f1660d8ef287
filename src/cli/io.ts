/** Where a command writes, and the exit statuses it returns (apart from run.ts, which imports every command). */

export interface CliIo {
  out(s: string): void;
  err(s: string): void;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
