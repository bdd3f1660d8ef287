/**
 * A stand-in server that answers each step with the vector's own expected
 * response, placeholders filled with plausible values. Replaying a file
 * against it must pass: it checks the runner (request building, binding,
 * comparison) rather than a server.
 */

import { createHash } from 'node:crypto';
import { encodeTtlv } from '../../src/kmip/ttlv/binary.js';
import type { TtlvDictionary } from '../../src/kmip/ttlv/dictionary.js';
import type { ItemTypeName, TtlvItem } from '../../src/kmip/ttlv/types.js';
import type { VectorStep } from '../../src/kmip/ttlv/vectors.js';
import { xmlElementToTtlv } from '../../src/kmip/ttlv/xml.js';
import type { ItemValue } from './placeholders.js';
import type { Exchange } from './replay.js';
import type { Clock } from './state.js';

export function echoExchange(steps: readonly VectorStep[], dict: TtlvDictionary, clock: Clock): Exchange {
  let next = 0;
  const hook = (text: string, type: ItemTypeName): ItemValue | undefined => {
    const now = /^\$NOW([+-]\d+)?$/.exec(text);
    if (now) return clock.now() + BigInt(now[1] ?? 0);
    if (type === 'TextString') return `server-${text.slice(1)}`;
    if (type === 'ByteString') return new Uint8Array(createHash('sha256').update(text).digest());
    return undefined;
  };
  return async () => {
    const step = steps[next++];
    if (step?.response === undefined) throw new Error('no expected response to echo');
    const message = xmlElementToTtlv(step.response, dict, { placeholder: hook });
    return encodeTtlv(withCurrentHeader(message, dict, clock));
  };
}

/** Like a live server: the header carries the current time and no Server Correlation Value. */
function withCurrentHeader(message: TtlvItem, dict: TtlvDictionary, clock: Clock): TtlvItem {
  if (message.type !== 'Structure') return message;
  const headerTag = dict.tagByName('ResponseHeader');
  const stampTag = dict.tagByName('TimeStamp');
  const scvTag = dict.tagByName('ServerCorrelationValue');
  return {
    ...message,
    value: message.value.map((h): TtlvItem => {
      if (h.tag !== headerTag || h.type !== 'Structure') return h;
      const value = h.value
        .filter((c) => c.tag !== scvTag)
        .map(
          (c): TtlvItem => (c.tag === stampTag ? { tag: c.tag, type: 'DateTime', value: clock.now() } : c),
        );
      return { ...h, value };
    }),
  };
}
