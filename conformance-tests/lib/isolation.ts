/**
 * Vector series that assume a server of their own. Their Locate steps expect
 * exactly the objects that the earlier files of the same series made (TL-M-3
 * reads the key TL-M-2 wrote; SASED-M-3 the one SASED-M-2 registered), so on a
 * server shared with every other file they find the objects of other versions'
 * copies too. The runner replays each series, per directory, in series order on
 * a fresh in-process server (about 0.2 s to start).
 */

import path from 'node:path';

export interface IsolatedSeries {
  readonly name: string;
  /** tested against the file name */
  readonly match: RegExp;
  readonly reason: string;
}

export const ISOLATED_SERIES: readonly IsolatedSeries[] = [
  {
    name: 'TL-M',
    match: /^TL[-_]M[-_]\d/,
    reason: 'TL-M-3 locates the tape key TL-M-2 wrote, by its Application Specific Information',
  },
  {
    name: 'SASED-M',
    match: /^SASED[-_]M[-_]\d/,
    reason: 'SASED-M-3 locates the key SASED-M-2 registered, by name',
  },
  {
    name: 'TC-OTP',
    match: /^TC[-_]OTP[-_]/,
    reason: 'TC-OTP-1…5 locate the objects TC-OTP-SETUP-* registered; TC-OTP-CLEANUP destroys them',
  },
  {
    name: 'TC-OFFSET',
    match: /^TC[-_]OFFSET[-_]\d/,
    reason: 'Locate steps expect exactly the keys the file created',
  },
  {
    name: 'TC-MDO',
    match: /^TC[-_]MDO[-_]\d/,
    reason: 'TC-MDO-2 locates by Key Value Present the objects TC-MDO-1 registered',
  },
];

/** The group key of a file (series + directory), or undefined when it shares the common server. */
export function isolationGroup(relPath: string): string | undefined {
  const base = path.basename(relPath);
  const series = ISOLATED_SERIES.find((s) => s.match.test(base));
  return series && `${path.dirname(relPath)}/${series.name}`;
}

/** Order inside a series: SETUP files first, CLEANUP files last, else by name. */
export function seriesOrder(a: string, b: string): number {
  const rank = (p: string) => (/SETUP/i.test(p) ? 0 : /CLEANUP/i.test(p) ? 2 : 1);
  return rank(a) - rank(b) || a.localeCompare(b, 'en', { numeric: true });
}
