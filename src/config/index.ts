export {
  ConfigError,
  type DeepPartial,
  type LoadConfigOptions,
  loadConfig,
  type ServerConfig,
  tlsCipherList,
} from './config.js';
export {
  CONFIG_FILE_ENV,
  DEFAULT_TLS12_CIPHERS,
  DEFAULT_TLS13_CIPHERSUITES,
  LOG_LEVELS,
  OPTIONS,
  type OptionSpec,
} from './options.js';
