import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { MasterKeyError } from '../types.js';

/**
 * hsm.pin names where the user PIN is, never the PIN itself: `env:NAME` (an
 * environment variable) or `file:PATH` (the first line of a file). A literal
 * PIN in a configuration file ends up in backups, tickets and screenshots.
 */
export async function resolvePin(spec: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (spec.startsWith('env:')) {
    const name = spec.slice('env:'.length);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new MasterKeyError(`hsm.pin: "env:${name}" does not name an environment variable`);
    }
    const value = env[name];
    if (value === undefined || value === '') {
      throw new MasterKeyError(`hsm.pin: environment variable ${name} is not set`);
    }
    return value;
  }
  if (spec.startsWith('file:')) {
    const file = spec.slice('file:'.length);
    if (file === '') throw new MasterKeyError('hsm.pin: "file:" needs a path');
    let text: string;
    try {
      const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        text = await fh.readFile('utf8');
      } finally {
        await fh.close();
      }
    } catch (err: unknown) {
      const code = err instanceof Error && 'code' in err ? String(err.code) : 'error';
      throw new MasterKeyError(`hsm.pin: cannot read PIN file ${file} (${code})`);
    }
    const pin = (text.split(/\r?\n/)[0] ?? '').trim();
    if (pin === '') throw new MasterKeyError(`hsm.pin: PIN file ${file} is empty`);
    return pin;
  }
  // Never echo the value: it may be the PIN itself.
  throw new MasterKeyError(
    'hsm.pin must be env:NAME or file:PATH; the PIN itself never goes in the configuration',
  );
}
