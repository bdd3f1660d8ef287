/**
 * Adjust Attribute (KMIP 2.0 §6.1.3, 2.1 §6.1.3): changes the value of a
 * single-instance attribute relative to its current value. Adjustment Type
 * Increment / Decrement adds / subtracts the Adjustment Value (Integer,
 * Long Integer or Interval; seconds for the date types) to an Integer, Long
 * Integer, Interval, Date-Time or Date-Time Extended (microseconds) value;
 * Negate changes the sign of an Integer or Long Integer and inverts a
 * Boolean. The attribute must exist and be one a client may change; the
 * result must fit the attribute's type. Big Integer values are not adjusted
 * (Feature Not Supported).
 *
 * Errors (spec table): attribute not set → Attribute Not Found; read-only →
 * Attribute Read Only; several instances → Multi Valued Attribute; an
 * adjustment that does not apply to the value's type, a missing or
 * non-numeric Adjustment Value → Invalid Field; result out of range →
 * Invalid Attribute Value; state rules → Wrong Key Lifecycle State.
 */
import { KmipError } from '../errors.js';
import { findAll, isMultiInstance, keyLabel, setSingle } from '../model/attributes.js';
import { AdjustAttributeRequest } from '../payloads/attributes.js';
import { IdPayload } from '../payloads/lifecycle.js';
import { AdjustmentType, Operation } from '../spec/index.js';
import type { TtlvItem } from '../ttlv/types.js';
import { attributeNotFound, checkClientChange } from './support/attribute-edit.js';
import { defineObjectOperation } from './support/define.js';

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT32_MAX = 2n ** 32n - 1n;

function adjustmentAmount(v: TtlvItem | undefined): bigint {
  if (v === undefined) {
    throw new KmipError('InvalidField', 'Increment and Decrement need an Adjustment Value');
  }
  switch (v.type) {
    case 'Integer':
    case 'Interval':
      return BigInt(v.value);
    case 'LongInteger':
      return v.value;
    default:
      throw new KmipError('InvalidField', `an Adjustment Value of type ${v.type} cannot be applied`);
  }
}

function inRange(n: bigint, min: bigint, max: bigint, label: string): bigint {
  if (n < min || n > max) {
    throw new KmipError('InvalidAttributeValue', `the adjusted ${label} is out of range for its type`);
  }
  return n;
}

/** The adjusted value; pure, exported for tests. */
export function adjustValue(value: TtlvItem, type: number, amount: () => bigint, label = 'value'): TtlvItem {
  if (value.type === 'BigInteger') {
    throw new KmipError('FeatureNotSupported', `${label} is a Big Integer, which is not adjusted`);
  }
  if (type === AdjustmentType.Negate) {
    switch (value.type) {
      case 'Boolean':
        return { ...value, value: !value.value };
      case 'Integer':
        return { ...value, value: Number(inRange(-BigInt(value.value), INT32_MIN, INT32_MAX, label)) };
      case 'LongInteger':
        return { ...value, value: inRange(-value.value, INT64_MIN, INT64_MAX, label) };
      default:
        throw new KmipError('InvalidField', `${label} (${value.type}) cannot be negated`);
    }
  }
  if (type !== AdjustmentType.Increment && type !== AdjustmentType.Decrement) {
    throw new KmipError('InvalidField', 'unknown Adjustment Type');
  }
  const sign = type === AdjustmentType.Increment ? 1n : -1n;
  switch (value.type) {
    case 'Integer':
      return {
        ...value,
        value: Number(inRange(BigInt(value.value) + sign * amount(), INT32_MIN, INT32_MAX, label)),
      };
    case 'Interval':
      return {
        ...value,
        value: Number(inRange(BigInt(value.value) + sign * amount(), 0n, UINT32_MAX, label)),
      };
    case 'LongInteger':
    case 'DateTime':
      return { ...value, value: inRange(value.value + sign * amount(), INT64_MIN, INT64_MAX, label) };
    case 'DateTimeExtended':
      // The Adjustment Value is in seconds for every date type.
      return {
        ...value,
        value: inRange(value.value + sign * amount() * 1_000_000n, INT64_MIN, INT64_MAX, label),
      };
    default:
      throw new KmipError('InvalidField', `${label} (${value.type}) cannot be incremented or decremented`);
  }
}

export const adjustAttribute = defineObjectOperation({
  operation: Operation.AdjustAttribute,
  since: '2.0',
  mutates: true,
  request: AdjustAttributeRequest,
  response: IdPayload,
  object: {},
  async handle(req, ctx, target) {
    const key = req.attributeReferences?.[0];
    if (key === undefined) throw new KmipError('InvalidMessage', 'Attribute Reference is required');
    const type = req.adjustmentType;
    if (type === undefined) throw new KmipError('InvalidMessage', 'Adjustment Type is required');
    const label = keyLabel(key);
    await target.update((obj) => {
      checkClientChange(ctx, obj, key);
      const current = findAll(obj.attributes, key);
      const first = current[0];
      if (first === undefined) throw attributeNotFound(ctx, key);
      if (current.length > 1 || (key.kind === 'standard' && isMultiInstance(key))) {
        throw new KmipError('MultiValuedAttribute', `${label} has several instances; it cannot be adjusted`);
      }
      const value = adjustValue(first.value, type, () => adjustmentAmount(req.adjustmentValue), label);
      return { attributes: setSingle(obj.attributes, { ...first, value }) };
    });
    return { uniqueIdentifier: target.obj.id };
  },
});
