/**
 * Discover Versions (KMIP 1.1 §4.26, 1.4 §4.26, 2.0 §6.1.21).
 *
 * The client may list the versions it supports, most preferred first. The
 * server answers with the versions both support, in its own order of
 * preference (newest first); with an empty request list it answers all of
 * them; with no version in common it answers an empty list.
 *
 * Errors: none specific; a malformed Protocol Version item is Invalid Message.
 */
import { KmipError } from '../errors.js';
import { parseProtocolVersion, protocolVersionItem, SERVER_VERSIONS } from '../messages/index.js';
import { Operation, Tag, versionPair } from '../spec/index.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import type { OperationDefinition } from './types.js';

export const discoverVersions: OperationDefinition = {
  operation: Operation.DiscoverVersions,
  // Defined from 1.1; also answered in 1.0 messages, since a client can only
  // negotiate by sending it in some version and 1.0 is the safest guess.
  since: '1.0',
  mutates: false,
  needsObject: false,
  handle(payload: TtlvStructure): TtlvItem[] {
    const offered: string[] = [];
    for (const c of payload.value) {
      if (c.tag !== Tag.ProtocolVersion) continue;
      if (c.type !== 'Structure')
        throw new KmipError('InvalidMessage', 'Protocol Version must be a Structure');
      const p = parseProtocolVersion(c);
      offered.push(`${p.major}.${p.minor}`);
    }
    const answer =
      offered.length === 0 ? SERVER_VERSIONS : SERVER_VERSIONS.filter((v) => offered.includes(v));
    return answer.map((v) => protocolVersionItem(versionPair(v)));
  },
};
