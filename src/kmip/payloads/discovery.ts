/**
 * Payloads of the operations that describe the server and the session:
 * Discover Versions (1.1 §4.26, 2.1 §6.1.15), Query (1.0 §4.24, 2.1
 * §6.1.37), Interop (2.0 §6.1.27) and Log (2.0 §6.1.32).
 */
import { Tag } from '../spec/index.js';
import { bool, enumeration, int, many, nested, nestedMany, type PayloadOf, text } from './schema.js';

export const ProtocolVersion = {
  major: int(Tag.ProtocolVersionMajor),
  minor: int(Tag.ProtocolVersionMinor),
} as const;

export const DiscoverVersionsPayload = {
  protocolVersions: nestedMany(Tag.ProtocolVersion, ProtocolVersion, {
    wrongType: 'Protocol Version must be a Structure',
  }),
} as const;
export type DiscoverVersionsPayload = PayloadOf<typeof DiscoverVersionsPayload>;

export const QueryRequest = {
  queryFunctions: many('Enumeration', Tag.QueryFunction, {
    wrongType: 'Query Function must be an Enumeration',
  }),
} as const;

export const CapabilityInformation = {
  streamingCapability: bool(Tag.StreamingCapability),
  asynchronousCapability: bool(Tag.AsynchronousCapability),
  attestationCapability: bool(Tag.AttestationCapability),
  batchUndoCapability: bool(Tag.BatchUndoCapability),
  batchContinueCapability: bool(Tag.BatchContinueCapability),
} as const;

/** Server Information is vendor-defined in 1.x; 2.x names these fields (the version filter drops them for 1.x). */
export const ServerInformation = {
  serverName: text(Tag.ServerName),
  serverVersion: text(Tag.ServerVersion),
  productName: text(Tag.ProductName),
} as const;

export const QueryResponse = {
  operations: many('Enumeration', Tag.Operation),
  objectTypes: many('Enumeration', Tag.ObjectType),
  vendorIdentification: text(Tag.VendorIdentification),
  serverInformation: nested(Tag.ServerInformation, ServerInformation),
  capabilityInformation: nested(Tag.CapabilityInformation, CapabilityInformation),
} as const;
export type QueryResponse = PayloadOf<typeof QueryResponse>;

export const InteropRequest = {
  interopFunction: enumeration(Tag.InteropFunction),
  interopIdentifier: text(Tag.InteropIdentifier),
} as const;

export const LogRequest = { logMessage: text(Tag.LogMessage) } as const;

export const EmptyPayload = {} as const;
