/**
 * Turns a vector's RequestMessage into the TTLV to send: placeholders get the
 * values this file's earlier responses bound, and literals that the vector
 * copied from a response we tolerated (a ciphertext, an IV) get the server's
 * value instead, so that the conversation stays coherent.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import type { TtlvDictionary } from '../../src/kmip/ttlv/dictionary.js';
import type { ItemTypeName, TtlvItem } from '../../src/kmip/ttlv/types.js';
import { type XmlElement, xmlElementToTtlv } from '../../src/kmip/ttlv/xml.js';
import {
  type ItemValue,
  isClientRandomPlaceholder,
  isNowPlaceholder,
  isUidPlaceholder,
  parsePlaceholder,
} from './placeholders.js';
import { carryKey, type ReplayState } from './state.js';

export const Substitution = {
  /** a placeholder bound by an earlier response */
  Bound: 'bound',
  /** $NOW±k: the client's clock */
  Now: 'now',
  /** $UNIQUE_IDENTIFIER_n never bound by name: the n-th identifier the server returned */
  OrdinalUid: 'ordinal-uid',
  /** $..._RANDOM_n: a fresh value the server cannot know */
  ClientRandom: 'client-random',
  /** any other unbound placeholder: the latest value of that tag in a response of this file */
  LatestResponseValue: 'latest-response-value',
  /** a literal the vector copied from a response whose value we tolerated */
  CarryForward: 'carry-forward',
} as const;
export type Substitution = (typeof Substitution)[keyof typeof Substitution];

export interface PreparedRequest {
  item: TtlvItem;
  substitutions: Map<Substitution, number>;
}

export function prepareRequest(el: XmlElement, dict: TtlvDictionary, state: ReplayState): PreparedRequest {
  const substitutions = new Map<Substitution, number>();
  const count = (s: Substitution) => substitutions.set(s, (substitutions.get(s) ?? 0) + 1);
  const bind = (text: string, tag: number, type: ItemTypeName, value: ItemValue): ItemValue => {
    state.bindings.set(text, { tag, type, value } as TtlvItem);
    return value;
  };

  const hook = (text: string, type: ItemTypeName, tag: number): ItemValue | undefined => {
    const p = parsePlaceholder(text);
    if (!p) return undefined;
    const bound = state.bindings.get(p.text);
    if (bound !== undefined) {
      if (bound.type === 'Structure') return undefined;
      count(Substitution.Bound);
      return convert(bound, type);
    }
    if (isNowPlaceholder(p)) {
      count(Substitution.Now);
      const seconds = state.clock.now() + BigInt(p.offsetSeconds);
      const value = type === 'DateTimeExtended' ? seconds * 1_000_000n : seconds;
      // "$NOW-3600" names one instant: every later use in this file means the same one.
      return p.offsetSeconds === 0 ? value : bind(p.text, tag, type, value);
    }
    if (isClientRandomPlaceholder(p)) {
      count(Substitution.ClientRandom);
      if (type === 'TextString') return bind(p.text, tag, type, randomUUID());
      if (type === 'ByteString') return bind(p.text, tag, type, new Uint8Array(randomBytes(16)));
      return undefined;
    }
    const ordinal = /_(\d+)$/.exec(p.name);
    if (isUidPlaceholder(p) && ordinal && type === 'TextString') {
      const uid = state.uidsInOrder[Number(ordinal[1])];
      if (uid !== undefined) {
        count(Substitution.OrdinalUid);
        return bind(p.text, tag, type, uid);
      }
    }
    const latest = state.latestByTag.get(tag);
    if (latest !== undefined && latest.type === type) {
      count(Substitution.LatestResponseValue);
      return bind(p.text, tag, type, latest.value);
    }
    return undefined;
  };

  const raw = xmlElementToTtlv(el, dict, { placeholder: hook });
  const item = carryForward(raw, state, () => count(Substitution.CarryForward));
  collectDates(item, state.sentDates);
  return { item, substitutions };
}

function convert(bound: Exclude<TtlvItem, { type: 'Structure' }>, type: ItemTypeName): ItemValue | undefined {
  if (bound.type === type) return bound.value;
  if (bound.type === 'DateTime' && type === 'DateTimeExtended') return bound.value * 1_000_000n;
  if (bound.type === 'DateTimeExtended' && type === 'DateTime') return bound.value / 1_000_000n;
  // A 2.x Unique Identifier may be quoted where a byte string is expected (Short Unique Identifier...).
  if (bound.type === 'TextString' && type === 'ByteString')
    return new Uint8Array(Buffer.from(bound.value, 'utf8'));
  return undefined;
}

function carryForward(item: TtlvItem, state: ReplayState, counted: () => void): TtlvItem {
  if (state.carried.size === 0) return item;
  if (item.type === 'Structure') {
    let changed = false;
    const value = item.value.map((c) => {
      const r = carryForward(c, state, counted);
      if (r !== c) changed = true;
      return r;
    });
    return changed ? { ...item, value } : item;
  }
  const replacement = state.carried.get(carryKey(item.tag, item.type, item.value));
  if (replacement === undefined || replacement.type !== item.type) return item;
  counted();
  return { ...replacement, tag: item.tag } as TtlvItem;
}

function collectDates(item: TtlvItem, out: Set<bigint>): void {
  if (item.type === 'Structure') for (const c of item.value) collectDates(c, out);
  else if (item.type === 'DateTime') out.add(item.value);
}

/** Remembers the latest value of every leaf tag in a server response. */
export function noteResponseValues(item: TtlvItem, state: ReplayState): void {
  if (item.type === 'Structure') for (const c of item.value) noteResponseValues(c, state);
  else {
    state.latestByTag.set(item.tag, item);
    if (item.type === 'ByteString') state.responseBytes.add(Buffer.from(item.value).toString('hex'));
  }
}
