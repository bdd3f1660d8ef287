/**
 * Payloads declared as data. A schema is an ordered record of fields, each
 * knowing how to read itself from a Request Payload and write itself into a
 * Response Payload (in the order declared: the spec's order). Handlers see
 * the decoded plain object, never a tag; the same objects are what the
 * JSON/REST surfaces map to.
 *
 * Reading never throws on shape, as the TTLV readers before it did: a field
 * that is missing or of another type is undefined, and the operation decides
 * which KMIP error that is (the OASIS vectors expect different reasons per
 * operation). A field with a version range is written only for the versions
 * in it; reading ignores the range (clients send fields early and late).
 */
import { KmipError } from '../errors.js';
import { compareVersions, type KmipVersion } from '../spec/index.js';
import type { TtlvItem, TtlvOf, TtlvStructure } from '../ttlv/types.js';

/** One field of a payload: where its value comes from and how it goes back on the wire. */
export interface Field<T> {
  read(payload: TtlvStructure, version: KmipVersion): T;
  write(value: T, version: KmipVersion): readonly TtlvItem[];
  /** first version whose responses carry it */
  readonly since?: KmipVersion;
  /** last version whose responses carry it */
  readonly until?: KmipVersion;
}

// biome-ignore lint/suspicious/noExplicitAny: a schema holds fields of every value type
export type Schema = Readonly<Record<string, Field<any>>>;

type ValueOf<F> = F extends Field<infer T> ? T : never;
type OptionalKeys<S extends Schema> = {
  [K in keyof S]: undefined extends ValueOf<S[K]> ? K : never;
}[keyof S];
type RequiredKeys<S extends Schema> = Exclude<keyof S, OptionalKeys<S>>;

/** The plain object a schema reads and writes; fields that may be absent are optional. */
export type PayloadOf<S extends Schema> = { readonly [K in RequiredKeys<S>]: ValueOf<S[K]> } & {
  readonly [K in OptionalKeys<S>]?: ValueOf<S[K]>;
};

function inRange(field: Field<unknown>, version: KmipVersion): boolean {
  if (field.since !== undefined && compareVersions(version, field.since) < 0) return false;
  return field.until === undefined || compareVersions(version, field.until) <= 0;
}

export function decodePayload<S extends Schema>(
  schema: S,
  payload: TtlvStructure,
  version: KmipVersion,
): PayloadOf<S> {
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(schema)) {
    const value = field.read(payload, version);
    if (value !== undefined) out[name] = value;
  }
  return out as PayloadOf<S>;
}

export function encodePayload<S extends Schema>(
  schema: S,
  value: PayloadOf<S>,
  version: KmipVersion,
): TtlvItem[] {
  const items: TtlvItem[] = [];
  const values = value as Readonly<Record<string, unknown>>;
  for (const [name, field] of Object.entries(schema)) {
    const v = values[name];
    if (v === undefined || !inRange(field, version)) continue;
    items.push(...field.write(v, version));
  }
  return items;
}

/**
 * Where a field exists and what its wrong type means: by default a child of
 * another type reads as absent; with `wrongType` it is Invalid Message with
 * that text (fields whose type the spec tables fix and the vectors probe).
 */
export interface FieldOptions {
  readonly since?: KmipVersion;
  readonly until?: KmipVersion;
  readonly wrongType?: string;
}

function range(o: FieldOptions): { since?: KmipVersion; until?: KmipVersion } {
  return {
    ...(o.since === undefined ? {} : { since: o.since }),
    ...(o.until === undefined ? {} : { until: o.until }),
  };
}

function badType(o: FieldOptions): undefined {
  if (o.wrongType !== undefined) throw new KmipError('InvalidMessage', o.wrongType);
  return undefined;
}

/** A field whose value is one item of a TTLV type, by tag; the first such child is read. */
function scalar<K extends TtlvItem['type']>(type: K) {
  return (tag: number, opts: FieldOptions = {}) => {
    const field: Field<TtlvOf<K>['value'] | undefined> = {
      ...range(opts),
      read(payload) {
        for (const c of payload.value) {
          if (c.tag === tag) return c.type === type ? (c.value as TtlvOf<K>['value']) : badType(opts);
        }
        return undefined;
      },
      write(value) {
        return value === undefined ? [] : [{ tag, type, value } as TtlvItem];
      },
    };
    return field;
  };
}

export const text = scalar('TextString');
export const bytes = scalar('ByteString');
export const int = scalar('Integer');
export const long = scalar('LongInteger');
export const bool = scalar('Boolean');
export const enumeration = scalar('Enumeration');
/** seconds since the epoch */
export const date = scalar('DateTime');
export const interval = scalar('Interval');

/** A structure the operation reads as a whole (Key Wrapping Specification, Cryptographic Parameters...). */
export function struct(tag: number, opts: FieldOptions = {}): Field<TtlvStructure | undefined> {
  return {
    ...range(opts),
    read(payload) {
      for (const c of payload.value) if (c.tag === tag) return c.type === 'Structure' ? c : badType(opts);
      return undefined;
    },
    write(value) {
      return value === undefined ? [] : [value];
    },
  };
}

/** Every child with the tag and the type, in order (Unique Identifier lists, Operation lists...). */
export function many<K extends TtlvItem['type']>(
  type: K,
  tag: number,
  opts: FieldOptions = {},
): Field<readonly TtlvOf<K>['value'][] | undefined> {
  return {
    ...range(opts),
    read(payload) {
      const out: TtlvOf<K>['value'][] = [];
      for (const c of payload.value) {
        if (c.tag !== tag) continue;
        if (c.type === type) out.push(c.value as TtlvOf<K>['value']);
        else badType(opts);
      }
      return out.length > 0 ? out : undefined;
    },
    write(values) {
      return (values ?? []).map((value) => ({ tag, type, value }) as TtlvItem);
    },
  };
}

/**
 * An item that may carry one of several tags, kept whole: the object of a
 * Register, Get or Import (Symmetric Key, Certificate, Private Key...).
 */
export function oneOf(tags: readonly number[]): Field<TtlvItem | undefined> {
  const set = new Set(tags);
  return {
    read(payload) {
      return payload.value.find((c) => set.has(c.tag));
    },
    write(item) {
      return item === undefined ? [] : [item];
    },
  };
}

/** A structure with a schema of its own (Protocol Version, Capability Information...). */
export function nested<S extends Schema>(
  tag: number,
  schema: S,
  opts: FieldOptions = {},
): Field<PayloadOf<S> | undefined> {
  return {
    ...range(opts),
    read(payload, version) {
      for (const c of payload.value) {
        if (c.tag === tag) return c.type === 'Structure' ? decodePayload(schema, c, version) : badType(opts);
      }
      return undefined;
    },
    write(value, version) {
      return value === undefined
        ? []
        : [{ tag, type: 'Structure', value: encodePayload(schema, value, version) }];
    },
  };
}

/** Every structure with the tag, each read with the schema. */
export function nestedMany<S extends Schema>(
  tag: number,
  schema: S,
  opts: FieldOptions = {},
): Field<readonly PayloadOf<S>[] | undefined> {
  return {
    ...range(opts),
    read(payload, version) {
      const out: PayloadOf<S>[] = [];
      for (const c of payload.value) {
        if (c.tag !== tag) continue;
        if (c.type === 'Structure') out.push(decodePayload(schema, c, version));
        else badType(opts);
      }
      return out.length > 0 ? out : undefined;
    },
    write(values, version) {
      return (values ?? []).map(
        (v): TtlvItem => ({ tag, type: 'Structure', value: encodePayload(schema, v, version) }),
      );
    },
  };
}
