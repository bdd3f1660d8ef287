/**
 * Which managed objects are HSM-resident and how to reach their token key
 * (operations/support/hsm-resident.ts creates, uses and destroys them).
 */
import type { HsmKeyService } from '../../../hsm/types.js';
import { isHsmUnavailable, isMasterKeyError } from '../../../hsm/types.js';
import { StoreUnavailableError } from '../../../store/types.js';
import { KmipError } from '../../errors.js';
import type { ModelAttribute } from '../../messages/attributes.js';
import { findAll } from '../../model/attributes.js';
import type { ManagedObject } from '../../model/object.js';
import type { OperationContext } from '../types.js';

export const HSM_RESIDENT_KEY = { kind: 'custom', vendor: 'x', name: 'HSM-Resident' } as const;
export const HSM_REFERENCE_KEY = { kind: 'custom', vendor: 'x', name: 'HSM-Key-Reference' } as const;

/** CKA_LABEL of the token object of a managed object. */
export function hsmLabel(objectId: string): string {
  return `kmip:${objectId}`;
}

/** True when the request's attributes ask for a key kept inside the HSM. */
export function residentRequested(attrs: readonly ModelAttribute[]): boolean {
  return findAll(attrs, HSM_RESIDENT_KEY).some((a) => {
    const v = a.value.type === 'Structure' ? a.value.value[0] : a.value;
    if (v?.type === 'Boolean') return v.value;
    if (v?.type === 'TextString') return v.value.toLowerCase() === 'true';
    if (v?.type === 'Integer') return v.value !== 0;
    return false;
  });
}

/** True when the object's key lives in the HSM: no sealed content, and the reference attribute. */
export function isResident(obj: ManagedObject): boolean {
  return obj.sealed === undefined && findAll(obj.attributes, HSM_REFERENCE_KEY).length > 0;
}

export function hsmOf(ctx: OperationContext): HsmKeyService {
  const hsm = ctx.services.hsm;
  if (hsm === undefined) {
    throw new KmipError(
      'FeatureNotSupported',
      'keys inside the HSM need the pkcs11 master-key provider (hsm.provider: pkcs11)',
    );
  }
  return hsm;
}

/**
 * An HSM failure as the client sees it: a lost HSM is General Failure "HSM
 * unavailable" (the executor's mapping, as for sealed objects); a refusal by
 * the token is Cryptographic Failure; anything else is unchanged.
 */
export function hsmFailure(e: unknown): unknown {
  if (isHsmUnavailable(e)) {
    return new StoreUnavailableError(`HSM unavailable: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
  if (isMasterKeyError(e)) return new KmipError('CryptographicFailure', e.message);
  return e;
}
