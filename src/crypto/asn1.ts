/**
 * asn1js reading and writing helpers shared by the DER codecs here (PKCS#12,
 * DSA/DH keys). A reader names `what` it expects so a malformed input fails
 * with a message that says where (a bad-input CryptoError).
 */
import * as asn1js from 'asn1js';
import { badInput } from './errors.js';

export function parseDer(der: Uint8Array | ArrayBuffer, what: string): asn1js.AsnType {
  const r = asn1js.fromBER(der);
  if (r.offset === -1) throw badInput(`${what} is not valid DER`);
  return r.result;
}

/** The items of a SEQUENCE or SET. */
export function seq(node: asn1js.AsnType | undefined, what: string): asn1js.AsnType[] {
  if (node instanceof asn1js.Sequence || node instanceof asn1js.Set) return node.valueBlock.value;
  throw badInput(`${what}: SEQUENCE expected`);
}

export function oid(node: asn1js.AsnType | undefined, what: string): string {
  if (node instanceof asn1js.ObjectIdentifier) return node.valueBlock.toString();
  throw badInput(`${what}: OBJECT IDENTIFIER expected`);
}

export function octets(node: asn1js.AsnType | undefined, what: string): Uint8Array {
  if (node instanceof asn1js.OctetString) {
    if (node.valueBlock.isConstructed) {
      // BER constructed OCTET STRING (some producers chunk the content).
      return new Uint8Array(Buffer.concat(node.valueBlock.value.map((c) => octets(c, what))));
    }
    return new Uint8Array(node.valueBlock.valueHexView);
  }
  // [0] IMPLICIT OCTET STRING reads as a primitive or constructed context-tagged item.
  if (node instanceof asn1js.Primitive) return new Uint8Array(node.valueBlock.valueHexView);
  if (node instanceof asn1js.Constructed) {
    return new Uint8Array(Buffer.concat(node.valueBlock.value.map((c) => octets(c, what))));
  }
  throw badInput(`${what}: OCTET STRING expected`);
}

export function int(node: asn1js.AsnType | undefined, what: string): number {
  if (node instanceof asn1js.Integer) return Number(node.toBigInt());
  throw badInput(`${what}: INTEGER expected`);
}

/** A non-negative INTEGER as its unsigned magnitude, minimal length. */
export function uint(node: asn1js.AsnType | undefined, what: string): Uint8Array {
  if (!(node instanceof asn1js.Integer)) throw badInput(`${what}: INTEGER expected`);
  const value = new Uint8Array(node.valueBlock.valueHexView);
  if (((value[0] ?? 0) & 0x80) !== 0) throw badInput(`${what} is negative`);
  return stripZeros(value);
}

/** An unsigned magnitude as a DER INTEGER. */
export function uintNode(unsigned: Uint8Array): asn1js.Integer {
  const v = stripZeros(unsigned);
  const bytes = ((v[0] ?? 0) & 0x80) !== 0 ? Buffer.concat([Buffer.alloc(1), v]) : Buffer.from(v);
  return new asn1js.Integer({ valueHex: bytes });
}

/** Leading zero bytes removed, one byte kept. */
function stripZeros(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

/** The content of an [0] EXPLICIT item. */
export function explicit0(node: asn1js.AsnType | undefined, what: string): asn1js.AsnType {
  if (node instanceof asn1js.Constructed && node.idBlock.tagClass === 3 && node.idBlock.tagNumber === 0) {
    const inner = node.valueBlock.value[0];
    if (inner !== undefined) return inner;
  }
  throw badInput(`${what}: [0] EXPLICIT content expected`);
}

export function explicitTag0(inner: asn1js.AsnType): asn1js.Constructed {
  return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [inner] });
}

export function derOf(node: asn1js.AsnType): Uint8Array {
  return new Uint8Array(node.toBER(false));
}
