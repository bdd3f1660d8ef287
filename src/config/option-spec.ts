/** The shape of one configuration option (options.ts lists them). */

/** 'data': a YAML mapping or list (JSON text in the environment), checked by the option's `check` */
export type OptionKind = 'string' | 'path' | 'int' | 'enum' | 'boolean' | 'data';

export interface OptionSpec {
  /** dotted key in the configuration file, e.g. 'limits.maxMessageBytes' */
  key: string;
  env: string;
  kind: OptionKind;
  /** undefined: unset unless configured */
  default: string | number | boolean | undefined;
  min?: number;
  max?: number;
  values?: readonly string[];
  doc: string;
  /** kinds 'data', 'string' and 'path': the problems of a value, empty when it is valid */
  check?: (value: unknown) => string[];
}
