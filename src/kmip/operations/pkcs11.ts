/**
 * PKCS#11 (KMIP 2.0 §6.1.37, 2.1 §6.1.39): a PKCS#11 function called
 * through KMIP, its parameters and results encoded per the PKCS#11
 * Interface. Served against the server's own PKCS#11 module (the pkcs11
 * master-key provider, docs/hsm.md):
 *
 * - C_Initialize opens an interface session: the answer carries a
 *   Correlation Value that later calls send back (PKCS11-M-1-21). The
 *   module itself is already initialized by the server (C_Initialize is
 *   process-wide, PKCS#11 v2.40 §5.4) and is not initialized again.
 * - C_GetInfo returns the module's CK_INFO: cryptokiVersion (2 bytes),
 *   manufacturerID (32), flags (CK_ULONG, 8 bytes little-endian),
 *   libraryDescription (32), libraryVersion (2), the layout of the vector.
 * - C_Finalize ends the interface session; the module stays initialized.
 * - Every other function answers Return Code FUNCTION_NOT_SUPPORTED:
 *   slots, sessions, logins and objects of the token are the server's
 *   root of trust, and handing them to clients would bypass KMIP access
 *   control and the key hierarchy.
 *
 * Errors: no pkcs11 provider → Feature Not Supported; unknown or foreign
 * Correlation Value → Invalid Correlation Value; a lost HSM → General
 * Failure "HSM unavailable".
 */
import { KmipError } from '../errors.js';
import { Pkcs11Request, Pkcs11Response } from '../payloads/misc.js';
import type { PayloadOf } from '../payloads/schema.js';
import { Operation, PKCS_11Function, PKCS_11ReturnCode } from '../spec/index.js';
import { defineOperation } from './support/define.js';
import { hsmFailure, hsmOf } from './support/hsm-resident.js';
import type { OperationContext } from './types.js';

const F = PKCS_11Function;

function owner(ctx: OperationContext): string {
  return ctx.client.commonName ?? ctx.client.remoteAddress;
}

/** Blank-padded to the fixed width of a CK_INFO text field. */
function fixed(text: string, width: number): Buffer {
  const out = Buffer.alloc(width, 0x20);
  out.write(text.slice(0, width), 'latin1');
  return out;
}

export function encodeCkInfo(info: {
  readonly cryptokiVersion: { readonly major: number; readonly minor: number };
  readonly manufacturerID: string;
  readonly flags: number;
  readonly libraryDescription: string;
  readonly libraryVersion: { readonly major: number; readonly minor: number };
}): Uint8Array {
  const flags = Buffer.alloc(8);
  flags.writeBigUInt64LE(BigInt(info.flags));
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([info.cryptokiVersion.major, info.cryptokiVersion.minor]),
      fixed(info.manufacturerID, 32),
      flags,
      fixed(info.libraryDescription, 32),
      Buffer.from([info.libraryVersion.major, info.libraryVersion.minor]),
    ]),
  );
}

async function handle(req: PayloadOf<typeof Pkcs11Request>, ctx: OperationContext): Promise<Pkcs11Response> {
  const hsm = hsmOf(ctx);
  const fn = req.pkcs11Function;
  if (fn === undefined) throw new KmipError('InvalidField', 'PKCS#11 needs a PKCS#11 Function');
  const cv = req.correlationValue;
  const streams = ctx.services.streams;
  const answer = (rc: number, extra: { cv?: Uint8Array; output?: Uint8Array } = {}): Pkcs11Response => ({
    pkcs11Interface: req.pkcs11Interface,
    pkcs11Function: fn,
    correlationValue: extra.cv,
    pkcs11OutputParameters: extra.output,
    pkcs11ReturnCode: rc,
  });
  const session = (final: boolean): void => {
    if (cv === undefined) return;
    streams.resume(Operation.PKCS_11, owner(ctx), cv, final, 'InvalidCorrelationValue');
  };
  switch (fn) {
    case F.C_Initialize: {
      if (cv !== undefined) return answer(PKCS_11ReturnCode.CRYPTOKI_ALREADY_INITIALIZED);
      // Reaches the module once, so that a lost HSM is reported here rather than later.
      try {
        await hsm.moduleInfo();
      } catch (e: unknown) {
        throw hsmFailure(e);
      }
      const opened = streams.open(Operation.PKCS_11, owner(ctx), 'pkcs11 interface session');
      return answer(PKCS_11ReturnCode.OK, { cv: opened });
    }
    case F.C_GetInfo: {
      session(false);
      try {
        return answer(PKCS_11ReturnCode.OK, { output: encodeCkInfo(await hsm.moduleInfo()) });
      } catch (e: unknown) {
        throw hsmFailure(e);
      }
    }
    case F.C_Finalize:
      if (cv === undefined) return answer(PKCS_11ReturnCode.CRYPTOKI_NOT_INITIALIZED);
      session(true);
      return answer(PKCS_11ReturnCode.OK);
    default:
      session(false);
      return answer(PKCS_11ReturnCode.FUNCTION_NOT_SUPPORTED);
  }
}

export const pkcs11 = defineOperation({
  operation: Operation.PKCS_11,
  since: '2.0',
  mutates: false,
  request: Pkcs11Request,
  response: Pkcs11Response,
  handle,
});
