export * from './attributes.js';
export * from './request.js';
export * from './response.js';
export * from './version-filter.js';
export * from './versions.js';
