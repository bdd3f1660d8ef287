/**
 * Every configuration option, as data: file key, environment variable, type, range, default and
 * meaning. The loader, the validation and docs/configuration.md (checked by a test) follow this table.
 */

import type { OptionSpec } from './option-spec.js';
import { SERVER_OPTIONS } from './options-server.js';
import { SERVICE_OPTIONS } from './options-services.js';

export type { OptionKind, OptionSpec } from './option-spec.js';
export { DEFAULT_TLS12_CIPHERS, DEFAULT_TLS13_CIPHERSUITES } from './options-server.js';
export { LOG_LEVELS } from './options-services.js';

export const OPTIONS: readonly OptionSpec[] = [...SERVER_OPTIONS, ...SERVICE_OPTIONS];

/** Environment variable naming the configuration file when --config is not given. */
export const CONFIG_FILE_ENV = 'KMIP_CONFIG';
