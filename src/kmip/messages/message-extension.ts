/**
 * Message Extensions (KMIP 1.0 §6.16, 2.1 §8.16): a Batch Item may carry a
 * vendor extension. This server understands none, so a non-critical one is
 * ignored and a critical one (Criticality Indicator True) fails its item with
 * Feature Not Supported (1.0 §11.1, the general error table; ovh TC_72_1x).
 */
import { KmipError } from '../errors.js';
import { Tag } from '../spec/index.js';
import { childBoolean, childText } from '../ttlv/build.js';
import type { TtlvItem } from '../ttlv/types.js';

/** The failure of one raw Batch Item that carries a critical Message Extension, or undefined. */
export function criticalExtensionError(batchItem: TtlvItem): KmipError | undefined {
  if (batchItem.type !== 'Structure') return undefined;
  for (const ext of batchItem.value) {
    if (ext.tag !== Tag.MessageExtension || childBoolean(ext, Tag.CriticalityIndicator) !== true) continue;
    const vendor = childText(ext, Tag.VendorIdentification);
    return new KmipError(
      'FeatureNotSupported',
      `critical Message Extension${vendor === undefined ? '' : ` of vendor "${vendor}"`} not recognized`,
    );
  }
  return undefined;
}

/**
 * One entry per Batch Item of a raw Request Message, in order (the order of
 * parseRequestMessage's batchItems): the item's failure, or undefined.
 */
export function criticalExtensionErrors(message: TtlvItem): (KmipError | undefined)[] {
  if (message.type !== 'Structure') return [];
  return message.value.filter((c) => c.tag === Tag.BatchItem).map(criticalExtensionError);
}
