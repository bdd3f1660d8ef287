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
import { SERVER_VERSIONS } from '../messages/index.js';
import { DiscoverVersionsPayload } from '../payloads/discovery.js';
import { Operation, versionPair } from '../spec/index.js';
import { defineOperation } from './support/define.js';

export const discoverVersions = defineOperation({
  operation: Operation.DiscoverVersions,
  // Defined from 1.1; also answered in 1.0 messages, since a client can only
  // negotiate by sending it in some version and 1.0 is the safest guess.
  since: '1.0',
  mutates: false,
  request: DiscoverVersionsPayload,
  response: DiscoverVersionsPayload,
  handle(req) {
    const offered = (req.protocolVersions ?? []).map((p) => {
      if (p.major === undefined || p.minor === undefined) {
        throw new KmipError('InvalidMessage', 'Protocol Version needs Major and Minor');
      }
      return `${p.major}.${p.minor}`;
    });
    const answer =
      offered.length === 0 ? SERVER_VERSIONS : SERVER_VERSIONS.filter((v) => offered.includes(v));
    return { protocolVersions: answer.map((v) => versionPair(v)) };
  },
});
