/**
 * Payloads of Certify (1.0 §4.7, 2.1 §6.1.6), Re-certify (1.0 §4.8, 2.1
 * §6.1.40) and Validate (1.0 §4.20, 2.1 §6.1.55).
 */
import { Tag } from '../spec/index.js';
import type { TtlvStructure } from '../ttlv/types.js';
import { newObjectFields, uniqueIdentifier } from './fields.js';
import { bytes, date, enumeration, type Field, interval, type PayloadOf, text } from './schema.js';

/** A certificate request: 1.x Certificate Request, 2.x Certificate Request Value or a managed one. */
export const CertificateRequestFields = {
  certificateRequestUniqueIdentifier: text(Tag.CertificateRequestUniqueIdentifier),
  certificateRequestType: enumeration(Tag.CertificateRequestType),
  certificateRequest: bytes(Tag.CertificateRequest, { until: '1.4' }),
  certificateRequestValue: bytes(Tag.CertificateRequestValue, { since: '2.0' }),
} as const;
export type CertificateRequestFields = PayloadOf<typeof CertificateRequestFields>;

export const CertifyRequest = {
  uniqueIdentifier,
  ...CertificateRequestFields,
  ...newObjectFields,
} as const;

export const RecertifyRequest = {
  uniqueIdentifier,
  ...CertificateRequestFields,
  offset: interval(Tag.Offset),
  ...newObjectFields,
} as const;

export const CertifyResponse = { uniqueIdentifier } as const;

/** One link of the chain Validate checks, in the order sent: a certificate, or a managed one by identifier. */
export type ChainLink = { readonly certificate: TtlvStructure } | { readonly uniqueIdentifier: string };

const chain: Field<readonly ChainLink[] | undefined> = {
  read(payload) {
    const links: ChainLink[] = [];
    for (const c of payload.value) {
      if (c.tag === Tag.Certificate && c.type === 'Structure') links.push({ certificate: c });
      else if (c.tag === Tag.UniqueIdentifier && c.type === 'TextString') {
        links.push({ uniqueIdentifier: c.value });
      }
    }
    return links.length > 0 ? links : undefined;
  },
  write(links) {
    return (links ?? []).map((l) =>
      'certificate' in l
        ? l.certificate
        : { tag: Tag.UniqueIdentifier, type: 'TextString' as const, value: l.uniqueIdentifier },
    );
  },
};

export const ValidateRequest = {
  chain,
  validityDate: date(Tag.ValidityDate),
} as const;

export const ValidateResponse = {
  validityIndicator: enumeration(Tag.ValidityIndicator),
} as const;
