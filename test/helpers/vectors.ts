import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The OASIS KMIP test vectors live beside the repository, never in it (OASIS
 * terms): ../shared/kmip-vectors, or wherever KMIP_VECTORS points.
 */
export const VECTORS_ROOT = path.resolve(
  process.env.KMIP_VECTORS ?? path.join(repoRoot, '../shared/kmip-vectors'),
);

if (!existsSync(VECTORS_ROOT)) {
  throw new Error(
    `KMIP test vectors not found at ${VECTORS_ROOT}: place them at ../shared/kmip-vectors or set KMIP_VECTORS`,
  );
}
