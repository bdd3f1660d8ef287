/**
 * `kmip-server decode <hex|file>`: binary TTLV (a hex string, or a file
 * holding binary TTLV or hex) to KMIP XML, for reading captures by eye.
 */

import { existsSync, readFileSync, statSync } from 'node:fs';
import { decodeTtlv } from '../kmip/ttlv/binary.js';
import type { TtlvDictionary } from '../kmip/ttlv/dictionary.js';
import { TextEncodingError } from '../kmip/ttlv/errors.js';
import { ttlvToXml } from '../kmip/ttlv/xml.js';

/** Hex digits with optional white space, colons and a leading "0x"; undefined if not hex. */
function hexBytes(text: string): Buffer | undefined {
  const hex = text.replace(/[\s:]+/g, '').replace(/^0x/i, '');
  if (hex === '' || !/^(?:[0-9A-Fa-f]{2})+$/.test(hex)) return undefined;
  return Buffer.from(hex, 'hex');
}

/** Reads the TTLV bytes named by `input`: an existing file (binary or hex text) or a hex string. */
export function decodeInput(input: string): Buffer {
  if (existsSync(input) && statSync(input).isFile()) {
    const data = readFileSync(input);
    // Binary TTLV always holds bytes outside the hex alphabet (zero bytes in the header).
    return hexBytes(data.toString('latin1')) ?? data;
  }
  const bytes = hexBytes(input);
  if (bytes === undefined) {
    throw new TextEncodingError('decode: the argument is neither an existing file nor a hex string');
  }
  return bytes;
}

export function decodeCommand(input: string, dict: TtlvDictionary): string {
  return ttlvToXml(decodeTtlv(decodeInput(input)), dict);
}
