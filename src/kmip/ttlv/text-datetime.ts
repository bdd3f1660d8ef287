/** DateTime and DateTimeExtended as text: ISO 8601 (xsd:dateTime) or 0x hex. */

import { TextEncodingError } from './errors.js';
import { clip, hex16, INT64_MAX, INT64_MIN } from './text-scalars.js';

// Civil-date arithmetic (proleptic Gregorian), independent of Date's range.
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [era * 400 + yoe + (m <= 2 ? 1 : 0), m, d];
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(m) ? 30 : 31;
}

const ISO_DATE_TIME =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})?$/;

/**
 * ISO 8601 date-time (xsd:dateTime) or 0x hex of the 64-bit value, to
 * microseconds since the epoch. A missing zone designator means UTC.
 */
function parseIsoMicros(text: string, where: string, typeName: string): bigint {
  const m = ISO_DATE_TIME.exec(text);
  const bad = (): never => {
    throw new TextEncodingError(`${where}: "${clip(text)}" is not a ${typeName}`);
  };
  if (m === null) return bad();
  const [, ys, mos, ds, hs, mis, ss, frac = '', zone = 'Z'] = m;
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  const h = Number(hs);
  const mi = Number(mis);
  const s = Number(ss);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) bad();
  if (/[1-9]/.test(frac.slice(6))) bad();
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4, 6));
    if (zh > 23 || zm > 59) bad();
    offsetMinutes = (zh * 60 + zm) * (zone.startsWith('-') ? -1 : 1);
  }
  const seconds = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offsetMinutes * 60;
  return BigInt(seconds) * 1_000_000n + BigInt(frac.slice(0, 6).padEnd(6, '0'));
}

export function parseDateTimeText(text: string, where: string): bigint {
  if (/^0x[0-9A-Fa-f]{1,16}$/.test(text)) return BigInt.asIntN(64, BigInt(text));
  const micros = parseIsoMicros(text, where, 'DateTime');
  if (micros % 1_000_000n !== 0n) {
    throw new TextEncodingError(`${where}: a DateTime has whole seconds, got "${text}"`);
  }
  return micros / 1_000_000n;
}

export function parseDateTimeExtendedText(text: string, where: string): bigint {
  if (/^0x[0-9A-Fa-f]{1,16}$/.test(text)) return BigInt.asIntN(64, BigInt(text));
  const micros = parseIsoMicros(text, where, 'DateTimeExtended');
  if (micros < INT64_MIN || micros > INT64_MAX) {
    throw new TextEncodingError(`${where}: "${text}" is out of range`);
  }
  return micros;
}

/** "2008-03-14T11:56:40+00:00" as the vectors write it; hex outside years 0000-9999. */
function formatIso(seconds: bigint, micros: bigint | undefined): string | undefined {
  const days = seconds >= 0n ? seconds / 86400n : -((-seconds + 86399n) / 86400n);
  const sod = Number(seconds - days * 86400n);
  if (days < -800_000n || days > 3_000_000n) return undefined;
  const [y, m, d] = civilFromDays(Number(days));
  if (y < 0 || y > 9999) return undefined;
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const frac = micros === undefined ? '' : `.${String(micros).padStart(6, '0')}`;
  return `${String(y).padStart(4, '0')}-${p2(m)}-${p2(d)}T${p2(Math.floor(sod / 3600))}:${p2(
    Math.floor(sod / 60) % 60,
  )}:${p2(sod % 60)}${frac}+00:00`;
}

export function formatDateTime(seconds: bigint): string {
  return formatIso(seconds, undefined) ?? hex16(seconds);
}

export function formatDateTimeExtended(micros: bigint): string {
  const s = micros >= 0n ? micros / 1_000_000n : -((-micros + 999_999n) / 1_000_000n);
  return formatIso(s, micros - s * 1_000_000n) ?? hex16(micros);
}
