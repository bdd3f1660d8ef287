import { encodeTtlv } from '../../src/kmip/ttlv/binary.js';
/**
 * Compares a server's Response Message with the one an OASIS test vector
 * expects. Exact by default (element order, tags, types, values); each
 * tolerance is a named rule, applied only where the vector's value cannot be
 * repeated by any server (clock, server-chosen identifiers, random material),
 * and counted in the report.
 */

import type { TtlvDictionary } from '../../src/kmip/ttlv/dictionary.js';
import type { TtlvItem } from '../../src/kmip/ttlv/types.js';
import {
  isNowPlaceholder,
  isUidPlaceholder,
  type ParsedPlaceholder,
  type SentinelTable,
} from './placeholders.js';
import type { ReplayState } from './state.js';

export const Rule = {
  /** Response header Time Stamp: any value within the clock slack of now. */
  HeaderTimeStamp: 'header-timestamp',
  /** Response header Server Correlation Value: server-chosen, may be present or absent. */
  ServerCorrelationValue: 'server-correlation-value',
  /** Result Message: free text (KMIP 1.0 §6.11 "informational"); presence and type still checked. */
  ResultMessageText: 'result-message-text',
  /** `$X` placeholders: bound to the server's value on first sight, equal at every later sight. */
  PlaceholderBinding: 'placeholder-binding',
  /** `$NOW±k` not sent by the client: a DateTime within the slack of now±k. */
  NowPlaceholder: 'now-placeholder',
  /** A date the server sets from its clock (Initial Date, Last Change Date...) given as a literal the client never sent: within the slack of the file's run. */
  ServerClockDate: 'server-clock-date',
  /** Key Material (and its sub-items) of an object the server generated, or wrapped under a generated key. */
  GeneratedKeyMaterial: 'generated-key-material',
  /** Digest Value of an object the server generated. */
  GeneratedDigest: 'generated-digest',
  /** Certificate Value of a certificate the server issued (Certify, Re-certify). */
  GeneratedCertificate: 'generated-certificate',
  /** Data / IV / tag / MAC / signature produced with a key the server generated. */
  GeneratedKeyOutput: 'generated-key-output',
  /** Encrypt without an IV in the request: the server picks the IV, so IV, Data and tag change (same lengths). */
  ServerGeneratedIv: 'server-generated-iv',
  /** Output of a randomised algorithm: RSA encryption (PKCS#1 v1.5, OAEP), ECDSA / DSA / PSS signatures. */
  RandomizedCryptoOutput: 'randomized-crypto-output',
  /** RNG Retrieve Data: any bytes of the expected length. */
  RngOutput: 'rng-output',
  /** Query payload: the server reports its own capabilities; every reported value must be valid. */
  QueryCapabilities: 'query-capabilities',
  /**
   * Discover Versions without a client list: the server lists every version it
   * speaks (KMIP 1.1 §4.26), so a newer server lists more than the vector's.
   * The vector's versions must all be there, in the same order, and the list
   * must run newest first; the extra versions are reported as info.
   */
  DiscoverVersionsServerList: 'discover-versions-server-list',
  /**
   * Query expected to fail with Response Too Large under a Maximum Response
   * Size: a server that reports fewer capabilities may fit. Passes only when
   * the server's Success response really is within the limit.
   */
  QueryFitsMaximumResponseSize: 'query-fits-maximum-response-size',
  /**
   * Locate answers Located Items (1.3+) although the vector's server left it
   * out: the spec lets a server return it even without Offset Items (KMIP 1.3
   * §4.9), and clients such as Percona's keyring rely on it. Accepted only when
   * it counts at least the identifiers returned.
   */
  LocatedItemsOptional: 'located-items-optional',
  /**
   * Random Number Generator attribute (KMIP 1.3 §3.44): the server names the
   * generator it really used, and the vectors name the reference server's
   * (ANSI X9.31). Checked: an RNG Parameters structure whose RNG Algorithm is
   * a defined value and whose other items are RNG Parameters fields.
   */
  ServerRngAttribute: 'server-rng-attribute',
  /**
   * Attribute Name whose expected text has runs of spaces ("Unique   Identifier",
   * text extracted from the specification's PDF tables). No attribute name the
   * spec defines (KMIP 1.0 §3, 2.0 §4) contains two spaces in a row, so the
   * damaged text names exactly one attribute: the server's single-spaced name
   * must equal it once runs of spaces are collapsed.
   */
  AttributeNameSpacing: 'attribute-name-spacing',
  /**
   * Get Attribute List, and Get Attributes naming no attribute (all of them):
   * the specification defines no order for the attributes returned (KMIP 1.0
   * §4.12-4.13, 2.0 §6.1.23-6.1.24), and the vectors disagree among themselves
   * (SKFF-M-9-13 lists Original Creation Date by name, SKFF-M-10-13 last). The
   * server's attributes are matched to the vector's by name, in order for
   * multi-instance attributes, then compared exactly; a missing or extra
   * attribute still fails.
   */
  AttributeOrder: 'attribute-order',
  /**
   * Random Number Generator (KMIP 1.3 §3.44) listed by the server where the
   * vector's server did not set it: the attribute need not always have a value
   * and the server may set it when it generates the object; the 1.3 vectors'
   * server did not, the 1.4 and 2.x vectors' server does. Applies to the
   * listings of the attribute-order rule only.
   */
  RngAttributeOptional: 'rng-attribute-optional',
  /**
   * Serial Number of the 1.x Certificate Identifier (KMIP 1.0 §3.9): a Text
   * String whose format the specification does not define, and the vectors
   * disagree (TC-PKCS12-2-14 and TC-CERTATTR-1-14: lower-case hex of the
   * DER INTEGER's content octets, sign octet included; ovh TC_132/134/ECC_3:
   * upper-case hex without the sign octet). Both texts must be hex naming
   * the same non-negative integer.
   */
  CertificateSerialText: 'certificate-serial-text',
} as const;
export type RuleName = (typeof Rule)[keyof typeof Rule];

export interface Difference {
  path: string;
  expected: string;
  actual: string;
  note?: string;
}

export interface Comparison {
  ok: boolean;
  /** the first difference, when not ok */
  diff?: Difference;
  differences: number;
  rules: Map<RuleName, number>;
  /** differences that are reported but do not fail (Query capabilities) */
  info: string[];
}

export interface CompareOptions {
  dict: TtlvDictionary;
  sentinels: SentinelTable;
  state: ReplayState;
  /** the request as sent (placeholders substituted), for per-operation context */
  request?: TtlvItem;
  /** seconds of tolerated clock skew; default 300 */
  clockSlack?: number;
}

/** Operations whose new objects hold server-chosen random material. */
const GENERATING_OPERATIONS = new Set([
  'Create',
  'CreateKeyPair',
  'ReKey',
  'ReKeyKeyPair',
  'Certify',
  'ReCertify',
  'CreateSplitKey',
]);
/** Operations that register or create objects whose algorithm we remember. */
const OBJECT_MAKING_OPERATIONS = new Set([...GENERATING_OPERATIONS, 'Register', 'DeriveKey', 'Import']);
const CRYPTO_OUTPUT_OPERATIONS = new Set(['Encrypt', 'Sign', 'MAC']);
const CRYPTO_OUTPUTS = new Set([
  'Data',
  'SignatureData',
  'MACData',
  'IVCounterNonce',
  'AuthenticatedEncryptionTag',
]);
const SAME_LENGTH_OUTPUTS = new Set(['IVCounterNonce', 'AuthenticatedEncryptionTag']);
const ID_TAGS = new Set(['UniqueIdentifier', 'PrivateKeyUniqueIdentifier', 'PublicKeyUniqueIdentifier']);

/** Dates the server sets from its own clock (KMIP 1.0 §3.23-3.31; 2.0 Original Creation Date). */
const CLOCK_DATE_TAGS = new Set([
  'InitialDate',
  'LastChangeDate',
  'OriginalCreationDate',
  'ActivationDate',
  'DeactivationDate',
  'DestroyDate',
  'CompromiseDate',
  'ArchiveDate',
]);
const CLOCK_DATE_ATTRIBUTE_NAMES = new Set([
  'Initial Date',
  'Last Change Date',
  'Original Creation Date',
  'Activation Date',
  'Deactivation Date',
  'Destroy Date',
  'Compromise Date',
  'Archive Date',
]);

interface Scope {
  inHeader: boolean;
  batchIndex?: number;
  op?: string;
  requestItem?: TtlvItem;
  expectedPayload?: TtlvItem;
  objectIds: string[];
  attrName?: string;
  inKeyMaterial: boolean;
}

type Verdict = { rule: RuleName; fail?: string } | undefined;

export function compareResponse(expected: TtlvItem, actual: TtlvItem, opts: CompareOptions): Comparison {
  return new Comparer(opts).run(expected, actual);
}

class Comparer {
  readonly #dict: TtlvDictionary;
  readonly #sentinels: SentinelTable;
  readonly #state: ReplayState;
  readonly #request: TtlvItem | undefined;
  readonly #slack: bigint;
  readonly #result: Comparison = { ok: true, differences: 0, rules: new Map(), info: [] };

  constructor(opts: CompareOptions) {
    this.#dict = opts.dict;
    this.#sentinels = opts.sentinels;
    this.#state = opts.state;
    this.#request = opts.request;
    this.#slack = BigInt(opts.clockSlack ?? 300);
  }

  run(expected: TtlvItem, actual: TtlvItem): Comparison {
    if (this.#queryFits(expected, actual)) return this.#result;
    this.#walk(expected, actual, this.#name(expected.tag), {
      inHeader: false,
      objectIds: [],
      inKeyMaterial: false,
    });
    return this.#result;
  }

  #name(tag: number): string {
    return this.#dict.tagName(tag) ?? `0x${tag.toString(16)}`;
  }

  #count(rule: RuleName): void {
    this.#result.rules.set(rule, (this.#result.rules.get(rule) ?? 0) + 1);
  }

  #differ(path: string, expected: string, actual: string, note?: string): void {
    this.#result.ok = false;
    this.#result.differences++;
    this.#result.diff ??= note === undefined ? { path, expected, actual } : { path, expected, actual, note };
  }

  #walk(exp: TtlvItem, act: TtlvItem, path: string, scope: Scope): void {
    if (exp.tag !== act.tag) {
      this.#differ(path, this.#name(exp.tag), this.#name(act.tag), 'different element');
      return;
    }
    const placeholder = this.#sentinels.identify(exp);
    if (placeholder) {
      this.#placeholder(placeholder, exp, act, path);
      return;
    }
    if (exp.type !== act.type) {
      this.#differ(path, exp.type, act.type, 'different item type');
      return;
    }
    if (exp.type === 'Structure' && act.type === 'Structure') {
      this.#structure(exp.value, act.value, exp, act, path, scope);
      return;
    }
    if (itemsEqual(exp, act)) return;
    const verdict = this.#tolerance(exp, act, scope);
    if (verdict === undefined) {
      this.#differ(path, this.#describe(exp, scope), this.#describe(act, scope));
      return;
    }
    if (verdict.fail !== undefined) {
      this.#differ(path, this.#describe(exp, scope), this.#describe(act, scope), verdict.fail);
      return;
    }
    this.#count(verdict.rule);
    if (verdict.rule !== Rule.HeaderTimeStamp) this.#state.carry(exp, act);
  }

  #structure(
    expChildren: readonly TtlvItem[],
    actChildren: readonly TtlvItem[],
    exp: TtlvItem,
    act: TtlvItem,
    path: string,
    outer: Scope,
  ): void {
    const name = this.#name(exp.tag);
    let scope = outer;
    let ec = expChildren;
    let ac = actChildren;
    if (name === 'ResponseHeader') {
      scope = { ...outer, inHeader: true };
      const isScv = (i: TtlvItem) => this.#name(i.tag) === 'ServerCorrelationValue';
      if (ec.some(isScv) || ac.some(isScv)) {
        this.#count(Rule.ServerCorrelationValue);
        ec = ec.filter((i) => !isScv(i));
        ac = ac.filter((i) => !isScv(i));
      }
    } else if (name === 'BatchItem') {
      scope = this.#batchScope(exp, act, outer);
    } else if (name === 'ResponsePayload' && outer.op === 'Query') {
      this.#query(ec, ac, path);
      return;
    } else if (
      name === 'RandomNumberGenerator' ||
      (name === 'AttributeValue' && outer.attrName === 'Random Number Generator')
    ) {
      this.#serverRng(ac, path);
      return;
    } else if (
      name === 'ResponsePayload' &&
      outer.op === 'DiscoverVersions' &&
      this.#noClientVersions(outer)
    ) {
      this.#discoverVersions(ec, ac, path);
      return;
    } else if (name === 'Attribute') {
      const attrName = findChild(exp, this.#dict, 'AttributeName');
      scope = {
        ...outer,
        attrName: attrName?.type === 'TextString' ? normalizeSpaces(attrName.value) : undefined,
      };
    } else if (name === 'KeyMaterial') {
      scope = { ...outer, inKeyMaterial: true };
    } else if (name === 'ResponsePayload' && outer.op === 'Locate') {
      ac = this.#acceptLocatedItems(ec, ac);
    }
    if (this.#isAttributeListing(name, outer)) ac = this.#alignAttributes(ec, ac);

    const total = new Map<number, number>();
    for (const c of ec) total.set(c.tag, (total.get(c.tag) ?? 0) + 1);
    const seen = new Map<number, number>();
    let batchIndex = 0;
    const n = Math.max(ec.length, ac.length);
    for (let i = 0; i < n; i++) {
      const e = ec[i];
      const a = ac[i];
      if (e === undefined) {
        if (a !== undefined)
          this.#differ(`${path}/${this.#name(a.tag)}`, '(nothing)', this.#name(a.tag), 'unexpected element');
        continue;
      }
      const k = seen.get(e.tag) ?? 0;
      seen.set(e.tag, k + 1);
      const childPath = `${path}/${this.#name(e.tag)}${(total.get(e.tag) ?? 0) > 1 ? `[${k}]` : ''}`;
      if (a === undefined) {
        this.#differ(childPath, this.#name(e.tag), '(nothing)', 'missing element');
        continue;
      }
      const childScope =
        this.#name(e.tag) === 'BatchItem' ? { ...scope, inHeader: false, batchIndex: batchIndex++ } : scope;
      this.#walk(e, a, childPath, childScope);
    }
    if (name === 'BatchItem') this.#afterBatchItem(act, scope);
  }

  #batchScope(exp: TtlvItem, act: TtlvItem, outer: Scope): Scope {
    const opItem = findChild(exp, this.#dict, 'Operation') ?? findChild(act, this.#dict, 'Operation');
    const op = opItem ? this.#enumName(opItem) : undefined;
    const requestItem = this.#requestItemFor(act, outer.batchIndex ?? 0);
    const objectIds: string[] = [];
    for (const source of [
      findChild(act, this.#dict, 'ResponsePayload'),
      requestItem && findChild(requestItem, this.#dict, 'RequestPayload'),
    ]) {
      if (!source) continue;
      for (const c of children(source)) {
        if (c.type === 'TextString' && ID_TAGS.has(this.#name(c.tag))) objectIds.push(c.value);
      }
    }
    return {
      inHeader: false,
      batchIndex: outer.batchIndex,
      op,
      requestItem,
      expectedPayload: findChild(exp, this.#dict, 'ResponsePayload'),
      objectIds,
      inKeyMaterial: false,
    };
  }

  #requestItemFor(act: TtlvItem, index: number): TtlvItem | undefined {
    if (!this.#request) return undefined;
    const items = children(this.#request).filter((c) => this.#name(c.tag) === 'BatchItem');
    const id = findChild(act, this.#dict, 'UniqueBatchItemID');
    if (id) {
      const match = items.find((r) => {
        const rid = findChild(r, this.#dict, 'UniqueBatchItemID');
        return rid !== undefined && itemsEqual(rid, id);
      });
      if (match) return match;
    }
    return items[index];
  }

  /** Remembers what later steps need: identifiers returned, generated objects, algorithms. */
  #afterBatchItem(act: TtlvItem, scope: Scope): void {
    const payload = findChild(act, this.#dict, 'ResponsePayload');
    const status = findChild(act, this.#dict, 'ResultStatus');
    const success = status !== undefined && this.#enumName(status) === 'Success';
    const ids: string[] = [];
    for (const c of payload ? children(payload) : []) {
      if (c.type === 'TextString' && ID_TAGS.has(this.#name(c.tag))) ids.push(c.value);
    }
    for (const id of ids) this.#state.noteUid(id);
    if (!success || scope.op === undefined) return;
    if (GENERATING_OPERATIONS.has(scope.op)) for (const id of ids) this.#state.generated.add(id);
    if (OBJECT_MAKING_OPERATIONS.has(scope.op) && scope.requestItem) {
      const alg = this.#algorithmIn(scope.requestItem);
      if (alg) for (const id of ids) this.#state.algorithms.set(id, alg);
      const padding = this.#paddingIn(scope.requestItem);
      if (padding) for (const id of ids) this.#state.paddings.set(id, padding);
    }
  }

  /** The Padding Method of the Cryptographic Parameters a request item registers (PSS signs at random). */
  #paddingIn(item: TtlvItem): string | undefined {
    if (item.type === 'Enumeration' && this.#name(item.tag) === 'PaddingMethod') return this.#enumName(item);
    for (const c of children(item)) {
      const found = this.#paddingIn(c);
      if (found) return found;
    }
    return undefined;
  }

  /** The first Cryptographic Algorithm in a request item, 2.x element or 1.x attribute. */
  #algorithmIn(item: TtlvItem): string | undefined {
    let found: string | undefined;
    const visit = (it: TtlvItem, parent: TtlvItem | undefined): void => {
      if (found) return;
      const name = this.#name(it.tag);
      if (it.type === 'Enumeration' && name === 'CryptographicAlgorithm') found = this.#enumName(it);
      else if (it.type === 'Enumeration' && name === 'AttributeValue' && parent) {
        const an = findChild(parent, this.#dict, 'AttributeName');
        if (an?.type === 'TextString' && normalizeSpaces(an.value) === 'Cryptographic Algorithm') {
          found = this.#dict.enumFor(it.tag, 'Cryptographic Algorithm')?.byValue.get(it.value);
        }
      }
      for (const c of children(it)) visit(c, it);
    };
    visit(item, undefined);
    return found;
  }

  #enumName(item: TtlvItem, attrName?: string): string | undefined {
    if (item.type !== 'Enumeration') return undefined;
    return this.#dict.enumFor(item.tag, attrName)?.byValue.get(item.value);
  }

  #placeholder(p: ParsedPlaceholder, exp: TtlvItem, act: TtlvItem, path: string): void {
    if (exp.type !== act.type) {
      this.#differ(path, `${exp.type} ${p.text}`, this.#describe(act), 'different item type');
      return;
    }
    const bound = this.#state.bindings.get(p.text);
    if (isNowPlaceholder(p) && bound === undefined) {
      const seconds = dateSeconds(act);
      const offset = BigInt(p.offsetSeconds);
      const lo = this.#state.startedAt + offset - this.#slack;
      const hi = this.#state.clock.now() + offset + this.#slack;
      if (seconds === undefined || seconds < lo || seconds > hi) {
        this.#differ(path, p.text, this.#describe(act), 'not within the clock slack of the expected time');
        return;
      }
      this.#count(Rule.NowPlaceholder);
      return;
    }
    if (bound !== undefined) {
      if (!valuesEqual(bound, act)) {
        this.#differ(
          path,
          `${p.text} = ${this.#describe(bound)}`,
          this.#describe(act),
          'placeholder bound earlier to another value',
        );
        return;
      }
      this.#count(Rule.PlaceholderBinding);
      return;
    }
    if (isUidPlaceholder(p)) {
      for (const [text, item] of this.#state.bindings) {
        if (text !== p.text && text.startsWith('$UNIQUE_IDENTIFIER') && valuesEqual(item, act)) {
          this.#differ(path, `${p.text} (a new identifier)`, this.#describe(act), `already bound to ${text}`);
          return;
        }
      }
    }
    this.#state.bindings.set(p.text, act);
    this.#count(Rule.PlaceholderBinding);
  }

  #tolerance(exp: TtlvItem, act: TtlvItem, scope: Scope): Verdict {
    const name = this.#name(exp.tag);
    const now = this.#state.clock.now();
    if (scope.inHeader && name === 'TimeStamp') {
      const s = dateSeconds(act);
      if (s === undefined || s < now - this.#slack || s > now + this.#slack)
        return { rule: Rule.HeaderTimeStamp, fail: 'time stamp is not current' };
      return { rule: Rule.HeaderTimeStamp };
    }
    if (name === 'ResultMessage' && exp.type === 'TextString') return { rule: Rule.ResultMessageText };
    if (name === 'SerialNumber' && exp.type === 'TextString' && act.type === 'TextString') {
      return sameHexInteger(exp.value, act.value)
        ? { rule: Rule.CertificateSerialText }
        : { rule: Rule.CertificateSerialText, fail: 'a different serial number' };
    }
    if (
      name === 'AttributeName' &&
      exp.type === 'TextString' &&
      act.type === 'TextString' &&
      /\s{2,}/.test(exp.value) &&
      normalizeSpaces(exp.value) === act.value
    ) {
      return { rule: Rule.AttributeNameSpacing };
    }
    const isClockDate =
      CLOCK_DATE_TAGS.has(name) ||
      (name === 'AttributeValue' &&
        scope.attrName !== undefined &&
        CLOCK_DATE_ATTRIBUTE_NAMES.has(scope.attrName));
    if (isClockDate && exp.type === 'DateTime' && !this.#state.sentDates.has(exp.value)) {
      const s = dateSeconds(act);
      if (s === undefined || s < this.#state.startedAt - this.#slack || s > now + this.#slack)
        return { rule: Rule.ServerClockDate, fail: 'server-set date is not within this run' };
      return { rule: Rule.ServerClockDate };
    }
    const generated = scope.objectIds.some((id) => this.#state.generated.has(id));
    if (
      (scope.inKeyMaterial || name === 'KeyMaterial') &&
      (generated || this.#wrappedUnderGeneratedKey(scope))
    ) {
      return { rule: Rule.GeneratedKeyMaterial };
    }
    if (name === 'DigestValue' && generated) return { rule: Rule.GeneratedDigest };
    if (name === 'CertificateValue' && generated) return { rule: Rule.GeneratedCertificate };
    if (scope.op === 'RNGRetrieve' && name === 'Data') {
      return sameLength(exp, act)
        ? { rule: Rule.RngOutput }
        : { rule: Rule.RngOutput, fail: 'different length' };
    }
    if (scope.op === 'Decrypt' && name === 'Data' && generated && !this.#decryptsServerOutput(scope)) {
      // A literal ciphertext decrypted under a key the server generated (CS-BC-M-2): unknowable plaintext.
      return { rule: Rule.GeneratedKeyOutput };
    }
    if (scope.op !== undefined && CRYPTO_OUTPUT_OPERATIONS.has(scope.op) && CRYPTO_OUTPUTS.has(name)) {
      if (generated) return { rule: Rule.GeneratedKeyOutput };
      if (scope.op === 'Encrypt' && this.#serverChoseIv(scope)) {
        if (SAME_LENGTH_OUTPUTS.has(name) || name === 'Data') {
          return sameLength(exp, act)
            ? { rule: Rule.ServerGeneratedIv }
            : { rule: Rule.ServerGeneratedIv, fail: 'different length' };
        }
      }
      if (this.#randomized(scope)) return { rule: Rule.RandomizedCryptoOutput };
    }
    return undefined;
  }

  /** The Decrypt request's Data came from a server response of this file (then the plaintext is known). */
  #decryptsServerOutput(scope: Scope): boolean {
    const reqPayload = scope.requestItem && findChild(scope.requestItem, this.#dict, 'RequestPayload');
    const data = reqPayload && findChild(reqPayload, this.#dict, 'Data');
    return (
      data?.type === 'ByteString' && this.#state.responseBytes.has(Buffer.from(data.value).toString('hex'))
    );
  }

  #serverChoseIv(scope: Scope): boolean {
    const reqPayload = scope.requestItem && findChild(scope.requestItem, this.#dict, 'RequestPayload');
    const requestIv = reqPayload && findChild(reqPayload, this.#dict, 'IVCounterNonce');
    const expectedIv =
      scope.expectedPayload && findChild(scope.expectedPayload, this.#dict, 'IVCounterNonce');
    return requestIv === undefined && expectedIv !== undefined;
  }

  #wrappedUnderGeneratedKey(scope: Scope): boolean {
    const reqPayload = scope.requestItem && findChild(scope.requestItem, this.#dict, 'RequestPayload');
    const spec = reqPayload && findChild(reqPayload, this.#dict, 'KeyWrappingSpecification');
    if (!spec) return false;
    const ids: string[] = [];
    const visit = (it: TtlvItem): void => {
      if (it.type === 'TextString' && this.#name(it.tag) === 'UniqueIdentifier') ids.push(it.value);
      for (const c of children(it)) visit(c);
    };
    visit(spec);
    return ids.some((id) => this.#state.generated.has(id));
  }

  #serverRng(ac: readonly TtlvItem[], path: string): void {
    const allowed = new Set([
      'RNGAlgorithm',
      'CryptographicAlgorithm',
      'CryptographicLength',
      'HashingAlgorithm',
      'DRBGAlgorithm',
      'RecommendedCurve',
      'FIPS186Variation',
      'PredictionResistance',
    ]);
    const alg = ac.find((c) => this.#name(c.tag) === 'RNGAlgorithm');
    if (alg === undefined || this.#enumName(alg) === undefined) {
      this.#differ(
        `${path}/RNGAlgorithm`,
        'a defined RNG Algorithm',
        alg ? this.#describe(alg) : '(nothing)',
      );
      return;
    }
    const stray = ac.find((c) => !allowed.has(this.#name(c.tag)));
    if (stray !== undefined) {
      this.#differ(`${path}/${this.#name(stray.tag)}`, 'an RNG Parameters field', this.#describe(stray));
      return;
    }
    this.#count(Rule.ServerRngAttribute);
  }

  /** RSA encryption and ECDSA / DSA / PSS signatures draw fresh randomness every time. */
  #randomized(scope: Scope): boolean {
    const names = new Set<string>();
    const reqPayload = scope.requestItem && findChild(scope.requestItem, this.#dict, 'RequestPayload');
    const params = reqPayload && findChild(reqPayload, this.#dict, 'CryptographicParameters');
    for (const c of params ? children(params) : []) {
      const n = this.#enumName(c);
      if (n) names.add(n);
    }
    for (const id of scope.objectIds) {
      const alg = this.#state.algorithms.get(id);
      if (alg) names.add(alg);
      // The key's own Cryptographic Parameters apply when the request gives none.
      const padding = params ? undefined : this.#state.paddings.get(id);
      if (padding) names.add(padding);
    }
    const has = (re: RegExp) => [...names].some((n) => re.test(n));
    if (scope.op === 'Encrypt') return has(/^(RSA|OAEP|PKCS1v1_5|PKCS1_v1_5)$/i);
    if (scope.op === 'Sign') return has(/ECDSA|DSA|PSS|^EC$/i);
    return false;
  }

  /**
   * KMIP 1.0 §4.25 Query: the server answers with its own capabilities, so the
   * vector's lists are not required; every reported Operation / Object Type
   * must be a defined value. A difference is reported as info.
   */
  #query(ec: readonly TtlvItem[], ac: readonly TtlvItem[], path: string): void {
    this.#count(Rule.QueryCapabilities);
    for (const a of ac) {
      const name = this.#name(a.tag);
      if (name !== 'Operation' && name !== 'ObjectType') continue;
      if (a.type !== 'Enumeration' || this.#enumName(a) === undefined) {
        this.#differ(`${path}/${name}`, `a defined ${name}`, this.#describe(a), 'invalid capability value');
      }
    }
    const notes: string[] = [];
    for (const name of ['Operation', 'ObjectType']) {
      const list = (items: readonly TtlvItem[]) =>
        items.filter((i) => this.#name(i.tag) === name).map((i) => this.#enumName(i) ?? this.#describe(i));
      const e = new Set(list(ec));
      const a = new Set(list(ac));
      const missing = [...e].filter((x) => !a.has(x));
      const extra = [...a].filter((x) => !e.has(x));
      if (missing.length > 0) notes.push(`${name} not reported: ${missing.join(', ')}`);
      if (extra.length > 0) notes.push(`${name} also reported: ${extra.join(', ')}`);
    }
    const others = (items: readonly TtlvItem[]) =>
      items.filter((i) => !['Operation', 'ObjectType'].includes(this.#name(i.tag)));
    const eo = others(ec);
    const ao = others(ac);
    if (eo.length !== ao.length || eo.some((e, i) => !deepEqual(e, ao[i] as TtlvItem))) {
      notes.push('other Query items differ');
    }
    if (notes.length > 0) this.#result.info.push(`capabilities differ at ${path}: ${notes.join('; ')}`);
  }

  #queryFits(expected: TtlvItem, actual: TtlvItem): boolean {
    const header = this.#request && findChild(this.#request, this.#dict, 'RequestHeader');
    const max = header && findChild(header, this.#dict, 'MaximumResponseSize');
    if (max?.type !== 'Integer') return false;
    const items = (m: TtlvItem) => children(m).filter((c) => this.#name(c.tag) === 'BatchItem');
    const [e, ...moreE] = items(expected);
    const [a, ...moreA] = items(actual);
    if (!e || !a || moreE.length > 0 || moreA.length > 0) return false;
    const enumOf = (it: TtlvItem, tag: string) => {
      const c = findChild(it, this.#dict, tag);
      return c ? this.#enumName(c) : undefined;
    };
    if (enumOf(e, 'Operation') !== 'Query' || enumOf(e, 'ResultReason') !== 'ResponseTooLarge') return false;
    if (enumOf(a, 'Operation') !== 'Query' || enumOf(a, 'ResultStatus') !== 'Success') return false;
    const size = encodeTtlv(actual).length;
    if (size > max.value) return false;
    this.#count(Rule.QueryFitsMaximumResponseSize);
    this.#result.info.push(`Query answer of ${size} bytes fits the Maximum Response Size of ${max.value}`);
    return true;
  }

  #acceptLocatedItems(ec: readonly TtlvItem[], ac: readonly TtlvItem[]): readonly TtlvItem[] {
    const isLocated = (i: TtlvItem) => this.#name(i.tag) === 'LocatedItems';
    const extra = ac.find(isLocated);
    if (extra === undefined || ec.some(isLocated) || extra.type !== 'Integer') return ac;
    const ids = ac.filter((i) => this.#name(i.tag) === 'UniqueIdentifier').length;
    if (extra.value < ids) return ac;
    this.#count(Rule.LocatedItemsOptional);
    return ac.filter((i) => !isLocated(i));
  }

  /** A listing whose order the spec leaves open (see Rule.AttributeOrder). */
  #isAttributeListing(name: string, scope: Scope): boolean {
    if (scope.op === 'GetAttributeList') return name === 'ResponsePayload';
    if (scope.op !== 'GetAttributes') return false;
    if (name !== 'ResponsePayload' && name !== 'Attributes') return false;
    const reqPayload = scope.requestItem && findChild(scope.requestItem, this.#dict, 'RequestPayload');
    return (
      reqPayload !== undefined &&
      findChild(reqPayload, this.#dict, 'AttributeName') === undefined &&
      findChild(reqPayload, this.#dict, 'AttributeReference') === undefined
    );
  }

  /** The server's items in the vector's order, matched by attribute; unmatched ones last. */
  #alignAttributes(ec: readonly TtlvItem[], ac: readonly TtlvItem[]): readonly TtlvItem[] {
    const keys = ac.map((a) => this.#attributeKey(a));
    const used = new Set<number>();
    const aligned: TtlvItem[] = [];
    for (const e of ec) {
      const k = this.#attributeKey(e);
      const i = keys.findIndex((key, j) => key === k && !used.has(j));
      if (i < 0) continue;
      used.add(i);
      aligned.push(ac[i] as TtlvItem);
    }
    const expectsRng = ec.some((e) => this.#isRngListing(e));
    for (const [i, a] of ac.entries()) {
      if (used.has(i)) continue;
      if (!expectsRng && this.#isRngListing(a)) {
        this.#count(Rule.RngAttributeOptional);
        continue;
      }
      aligned.push(a);
    }
    const kept = ac.filter((a) => aligned.includes(a));
    if (aligned.some((a, i) => a !== kept[i])) this.#count(Rule.AttributeOrder);
    return aligned;
  }

  /** Identity of a listed attribute: element, plus the attribute's name where the element is generic. */
  #attributeKey(item: TtlvItem): string {
    const name = this.#name(item.tag);
    if (item.type === 'TextString' && name === 'AttributeName')
      return `${name}:${normalizeSpaces(item.value)}`;
    if (item.type === 'Enumeration' && name === 'AttributeReference') return `${name}:${item.value}`;
    if (item.type === 'Structure' && (name === 'Attribute' || name === 'AttributeReference')) {
      const parts = item.value
        .filter(
          (c) => c.type === 'TextString' && /^(AttributeName|VendorIdentification)$/.test(this.#name(c.tag)),
        )
        .map((c) => (c.type === 'TextString' ? normalizeSpaces(c.value) : ''));
      return `${name}:${parts.join('/')}`;
    }
    return name;
  }

  #isRngListing(item: TtlvItem): boolean {
    const name = this.#name(item.tag);
    if (name === 'RandomNumberGenerator') return true;
    const key = this.#attributeKey(item);
    if (key === 'Attribute:Random Number Generator' || key === 'AttributeName:Random Number Generator')
      return true;
    return (
      item.type === 'Enumeration' &&
      name === 'AttributeReference' &&
      this.#dict.enumFor(item.tag)?.byValue.get(item.value) === 'RandomNumberGenerator'
    );
  }

  #noClientVersions(scope: Scope): boolean {
    const reqPayload = scope.requestItem && findChild(scope.requestItem, this.#dict, 'RequestPayload');
    return reqPayload !== undefined && findChild(reqPayload, this.#dict, 'ProtocolVersion') === undefined;
  }

  #discoverVersions(ec: readonly TtlvItem[], ac: readonly TtlvItem[], path: string): void {
    this.#count(Rule.DiscoverVersionsServerList);
    const versions = (items: readonly TtlvItem[]) =>
      items.map((i) => {
        const major = findChild(i, this.#dict, 'ProtocolVersionMajor');
        const minor = findChild(i, this.#dict, 'ProtocolVersionMinor');
        return major?.type === 'Integer' && minor?.type === 'Integer' ? major.value * 1000 + minor.value : -1;
      });
    const e = versions(ec);
    const a = versions(ac);
    const show = (v: number) => `${Math.floor(v / 1000)}.${v % 1000}`;
    if (ac.some((i) => this.#name(i.tag) !== 'ProtocolVersion') || a.includes(-1)) {
      this.#differ(path, 'only Protocol Version items', `${ac.length} items`, 'malformed version list');
      return;
    }
    if (a.some((v, i) => i > 0 && v >= (a[i - 1] as number))) {
      this.#differ(path, 'versions newest first', a.map(show).join(', '), 'version list out of order');
      return;
    }
    const missing = e.filter((v) => !a.includes(v));
    if (missing.length > 0) {
      this.#differ(path, e.map(show).join(', '), a.map(show).join(', '), 'versions missing');
      return;
    }
    const extra = a.filter((v) => !e.includes(v));
    if (extra.length > 0)
      this.#result.info.push(`server also offers ${extra.map(show).join(', ')} at ${path}`);
  }

  #describe(item: TtlvItem, scope?: Scope): string {
    return describeItem(item, this.#dict, scope?.attrName);
  }
}

export function describeItem(item: TtlvItem, dict: TtlvDictionary, attrName?: string): string {
  switch (item.type) {
    case 'Structure':
      return `Structure(${item.value.length} items)`;
    case 'Enumeration': {
      const n = dict.enumFor(item.tag, attrName)?.byValue.get(item.value);
      return `Enumeration ${n ?? `0x${item.value.toString(16).padStart(8, '0')}`}`;
    }
    case 'TextString':
      return `TextString ${JSON.stringify(item.value.length > 60 ? `${item.value.slice(0, 60)}…` : item.value)}`;
    case 'ByteString':
    case 'BigInteger': {
      const hex = Buffer.from(item.value).toString('hex');
      return `${item.type} ${hex.length > 48 ? `${hex.slice(0, 48)}…` : hex} (${item.value.length} bytes)`;
    }
    case 'DateTime': {
      const ms = Number(item.value) * 1000;
      return `DateTime ${Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : String(item.value)}`;
    }
    default:
      return `${item.type} ${String(item.value)}`;
  }
}

function children(item: TtlvItem): readonly TtlvItem[] {
  return item.type === 'Structure' ? item.value : [];
}

function findChild(item: TtlvItem, dict: TtlvDictionary, name: string): TtlvItem | undefined {
  const tag = dict.tagByName(name);
  return tag === undefined ? undefined : children(item).find((c) => c.tag === tag);
}

function normalizeSpaces(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function dateSeconds(item: TtlvItem): bigint | undefined {
  if (item.type === 'DateTime') return item.value;
  if (item.type === 'DateTimeExtended') return item.value / 1_000_000n;
  return undefined;
}

function sameLength(a: TtlvItem, b: TtlvItem): boolean {
  return a.value instanceof Uint8Array && b.value instanceof Uint8Array && a.value.length === b.value.length;
}

/** Same item type and value, whatever the tag (a placeholder's value travels between tags). */
export function valuesEqual(a: TtlvItem, b: TtlvItem): boolean {
  if (a.type === 'Structure' || b.type === 'Structure') return false;
  return itemsEqual(a, { ...b, tag: a.tag } as TtlvItem);
}

export function itemsEqual(a: TtlvItem, b: TtlvItem): boolean {
  if (a.tag !== b.tag || a.type !== b.type) return false;
  if (a.type === 'Structure' || b.type === 'Structure') return deepEqual(a, b);
  if (a.value instanceof Uint8Array && b.value instanceof Uint8Array)
    return Buffer.from(a.value).equals(b.value);
  return a.value === b.value;
}

export function deepEqual(a: TtlvItem, b: TtlvItem): boolean {
  if (a.type === 'Structure' && b.type === 'Structure') {
    return (
      a.tag === b.tag &&
      a.value.length === b.value.length &&
      a.value.every((c, i) => deepEqual(c, b.value[i] as TtlvItem))
    );
  }
  return itemsEqual(a, b);
}

/** Two hex texts naming the same integer, whatever their case and leading zeros. */
function sameHexInteger(a: string, b: string): boolean {
  const hex = /^[0-9a-fA-F]+$/;
  return hex.test(a) && hex.test(b) && BigInt(`0x${a}`) === BigInt(`0x${b}`);
}
