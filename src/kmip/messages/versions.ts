import { KMIP_VERSIONS, type KmipVersion, versionFromPair, versionPair } from '../spec/index.js';
import type { ProtocolVersionPair } from './request.js';

/** What Discover Versions offers, newest (most preferred) first. */
export const SERVER_VERSIONS: readonly KmipVersion[] = [...KMIP_VERSIONS].reverse();

export type VersionResolution =
  | { readonly supported: true; readonly version: KmipVersion }
  | { readonly supported: false; readonly answerIn: KmipVersion };

/**
 * A request is answered in its own version. For a version we do not speak we
 * answer in the nearest one we do: the newest of the same major version, or
 * our newest/oldest for majors above/below ours.
 */
export function resolveVersion(pair: ProtocolVersionPair): VersionResolution {
  const v = versionFromPair(pair.major, pair.minor);
  if (v !== undefined) return { supported: true, version: v };
  const sameMajor = SERVER_VERSIONS.filter((s) => versionPair(s).major === pair.major);
  const answerIn = sameMajor.find((s) => versionPair(s).minor < pair.minor) ?? sameMajor[0];
  if (answerIn !== undefined) return { supported: false, answerIn };
  const newest = SERVER_VERSIONS[0] ?? '2.1';
  const oldest = SERVER_VERSIONS[SERVER_VERSIONS.length - 1] ?? '1.0';
  return { supported: false, answerIn: pair.major > versionPair(newest).major ? newest : oldest };
}
