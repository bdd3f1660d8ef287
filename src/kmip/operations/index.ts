import { discoverVersions } from './discover-versions.js';
import { query } from './query.js';
import type { OperationDefinition } from './types.js';

export type { ClientIdentity, OperationContext, OperationDefinition, ServerDescription } from './types.js';

/** Every implemented operation; one file each. Query reports exactly this list. */
export const OPERATIONS: readonly OperationDefinition[] = [discoverVersions, query];
