/**
 * SoftHSM2 tokens for tests. One token directory per test process (SoftHSM
 * reads SOFTHSM2_CONF once, at C_Initialize, and PKCS#11 initialization is
 * process-wide), and a fresh token with its own label per call, created
 * in-process so that an already initialized library sees it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ServerConfig } from '../../src/config/index.js';
import { initialize, loadLibrary, P, trimLabel } from '../../src/hsm/pkcs11/library.js';

export const SOFTHSM_MODULE = process.env.SOFTHSM2_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';
/** the environment variable holding the user PIN of every test token */
export const PIN_ENV = 'KMIP_TEST_HSM_PIN';
const USER_PIN = '12345678';
const SO_PIN = '87654321';

interface SoftHsmDir {
  readonly root: string;
  readonly conf: string;
  readonly tokenDir: string;
}

let shared: SoftHsmDir | undefined;

/** The process's SoftHSM directory; SOFTHSM2_CONF points at it from the first call on. */
export function softHsmDir(): SoftHsmDir {
  if (shared !== undefined) return shared;
  const root = mkdtempSync(path.join(tmpdir(), 'kmip-softhsm-'));
  const tokenDir = path.join(root, 'tokens');
  mkdirSync(tokenDir, { mode: 0o700 });
  const conf = path.join(root, 'softhsm2.conf');
  writeFileSync(
    conf,
    `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  process.env.SOFTHSM2_CONF = conf;
  process.env[PIN_ENV] = USER_PIN;
  process.on('exit', () => rmSync(root, { recursive: true, force: true }));
  shared = { root, conf, tokenDir };
  return shared;
}

export interface SoftHsmToken {
  readonly module: string;
  readonly tokenLabel: string;
  /** the hsm.pin value: env:KMIP_TEST_HSM_PIN */
  readonly pin: string;
  /** the PIN itself, for pkcs11-tool */
  readonly userPin: string;
  readonly conf: string;
  readonly tokenDir: string;
  /** the hsm.* configuration of a pkcs11 provider on this token */
  readonly hsm: ServerConfig['hsm'];
}

/** Initializes a fresh token in the free slot; labels are unique per call. */
export function createSoftHsmToken(label = `kmip-test-${randomBytes(4).toString('hex')}`): SoftHsmToken {
  const dir = softHsmDir();
  const lib = loadLibrary(SOFTHSM_MODULE);
  initialize(lib);
  const free = lib
    .C_GetSlotList(true)
    .find((s) => (lib.C_GetTokenInfo(s).flags & P.CKF_TOKEN_INITIALIZED) === 0);
  if (free === undefined) throw new Error('SoftHSM offers no free slot');
  // pkcs11js passes the label as is: pad it to the 32 blanks CK_TOKEN_INFO wants.
  lib.C_InitToken(free, SO_PIN, label.padEnd(32, ' '));
  const s = lib.C_OpenSession(free, P.CKF_SERIAL_SESSION | P.CKF_RW_SESSION);
  try {
    lib.C_Login(s, P.CKU_SO, SO_PIN);
    lib.C_InitPIN(s, USER_PIN);
    lib.C_Logout(s);
  } finally {
    lib.C_CloseSession(s);
  }
  if (trimLabel(lib.C_GetTokenInfo(free).label) !== label) throw new Error('SoftHSM token label mismatch');
  const pin = `env:${PIN_ENV}`;
  return {
    module: SOFTHSM_MODULE,
    tokenLabel: label,
    pin,
    userPin: USER_PIN,
    conf: dir.conf,
    tokenDir: dir.tokenDir,
    hsm: {
      provider: 'pkcs11',
      keyFile: path.join(dir.root, 'unused-master.key'),
      module: SOFTHSM_MODULE,
      tokenLabel: label,
      pin,
    },
  };
}

/** `KMIP_TEST_HSM=pkcs11` runs the store and operation suites with the pkcs11 provider. */
export function testHsmProvider(): 'software' | 'pkcs11' {
  return process.env.KMIP_TEST_HSM === 'pkcs11' ? 'pkcs11' : 'software';
}

/**
 * Takes the HSM away as a crash would: every session and login of the
 * process ends (C_Finalize underneath the providers) and SoftHSM cannot
 * initialize again (SOFTHSM2_CONF points nowhere) until the returned
 * function gives it back.
 */
export function loseHsm(): () => void {
  const dir = softHsmDir();
  const lib = loadLibrary(SOFTHSM_MODULE);
  try {
    lib.C_Finalize();
  } catch {
    // not initialized: already lost
  }
  process.env.SOFTHSM2_CONF = path.join(dir.root, 'missing.conf');
  return () => {
    process.env.SOFTHSM2_CONF = dir.conf;
  };
}

/** For a suite: `lose()` takes the HSM away (loseHsm), `regain()` gives it back; each test ends with it back. */
export function useHsmLoss(): { lose(): void; regain(): void } {
  let restore: (() => void) | undefined;
  const regain = () => {
    restore?.();
    restore = undefined;
  };
  afterEach(regain);
  return {
    lose: () => {
      restore = loseHsm();
    },
    regain,
  };
}

/** `pkcs11-tool --list-objects` of a token, as an operator would look at it. */
export async function listObjects(token: SoftHsmToken): Promise<string> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { stdout } = await promisify(execFile)(
    'pkcs11-tool',
    [
      '--module',
      token.module,
      '--token-label',
      token.tokenLabel,
      '--login',
      '--pin',
      token.userPin,
      '--list-objects',
      '--type',
      'secrkey',
    ],
    { env: { ...process.env, SOFTHSM2_CONF: token.conf } },
  );
  return stdout;
}
