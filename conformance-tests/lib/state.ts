/**
 * What one vector file's replay remembers from step to step: placeholder
 * bindings, the identifiers the server returned, which objects the server
 * generated (their key material cannot match the vector's), and the values
 * that were tolerated in a response so that a later request quoting the
 * vector's literal gets the server's value instead.
 */

import type { TtlvItem } from '../../src/kmip/ttlv/types.js';
import { type ItemValue, valueKey } from './placeholders.js';

export interface Clock {
  /** seconds since the epoch */
  now(): bigint;
}

export const systemClock: Clock = { now: () => BigInt(Math.floor(Date.now() / 1000)) };

export class ReplayState {
  /** placeholder text ("$UNIQUE_IDENTIFIER_0", "$NOW-3600") → the value it stands for in this file */
  readonly bindings = new Map<string, TtlvItem>();
  /** distinct unique identifiers the server returned, in order of appearance */
  readonly uidsInOrder: string[] = [];
  /**
   * objects made by Create, CreateKeyPair, ReKey, Certify... on the server: random material. Shared by
   * the files of an isolated series (TL-M-3 reads the key TL-M-2 created).
   */
  readonly generated: Set<string>;
  /** object id → Cryptographic Algorithm name given when it was created or registered */
  readonly algorithms = new Map<string, string>();
  /** object id → Padding Method name in the Cryptographic Parameters it was created or registered with */
  readonly paddings = new Map<string, string>();
  /** hex of every ByteString in a server response of this file */
  readonly responseBytes = new Set<string>();
  /** "tag:type:value" of a vector literal tolerated in a response → the server's item */
  readonly carried = new Map<string, TtlvItem>();
  /** tag → the latest leaf with that tag in a server response of this file */
  readonly latestByTag = new Map<number, TtlvItem>();
  /** every DateTime value sent in a request of this file */
  readonly sentDates = new Set<bigint>();
  readonly startedAt: bigint;

  constructor(
    readonly clock: Clock = systemClock,
    generated: Set<string> = new Set(),
  ) {
    this.startedAt = clock.now();
    this.generated = generated;
  }

  noteUid(uid: string): void {
    if (!this.uidsInOrder.includes(uid)) this.uidsInOrder.push(uid);
  }

  carry(expected: TtlvItem, actual: TtlvItem): void {
    if (expected.type === 'Structure') return;
    this.carried.set(carryKey(expected.tag, expected.type, expected.value), actual);
  }
}

export function carryKey(tag: number, type: TtlvItem['type'], value: ItemValue): string {
  return `${tag}:${valueKey(type, value)}`;
}
