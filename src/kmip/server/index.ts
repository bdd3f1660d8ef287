/** The server layer: the TLS listener, the batch executor and KMIP framing. The composition root is src/app.ts. */
export * from './executor.js';
export * from './framing.js';
export * from './listener.js';
export * from './tls-material.js';
