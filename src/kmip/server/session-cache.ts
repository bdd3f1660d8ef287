/** TLS 1.2 session-ID cache: bounded, entries expire after the session timeout. */
export class SessionCache {
  readonly #entries = new Map<string, { data: Buffer; expires: number }>();
  constructor(
    readonly max: number,
    readonly ttlMs: number,
  ) {}

  set(id: string, data: Buffer): void {
    this.#entries.delete(id);
    if (this.#entries.size >= this.max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(id, { data, expires: Date.now() + this.ttlMs });
  }

  get(id: string): Buffer | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    if (entry.expires <= Date.now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry.data;
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** A serialized SSL_SESSION (DER: SEQUENCE { INTEGER 1, INTEGER protocol version, ... }) of TLS 1.3. */
export function isTls13Session(der: Buffer): boolean {
  if (der[0] !== 0x30 || der.length < 4) return false;
  const lengthByte = der[1] ?? 0;
  const off = 2 + (lengthByte & 0x80 ? lengthByte & 0x7f : 0) + 3; // past the length and INTEGER 1
  return (
    der[off] === 0x02 &&
    der[off + 1] === 0x02 &&
    der.length >= off + 4 &&
    der.readUInt16BE(off + 2) === 0x0304
  );
}
