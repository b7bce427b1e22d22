/** The Talos PKI: Ed25519, ECDSA P-256 and RSA keys in Talos's PEM forms, CAs, certificates, CSRs. */
export * from './cert.js';
export * from './csr.js';
export * from './errors.js';
export * from './keys.js';
export * from './pem.js';
