export * from './binary.js';
export * from './build.js';
export * from './dictionary.js';
export * from './json.js';
export * from './types.js';
export * from './xml.js';
