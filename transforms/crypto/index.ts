export { sha256Hex } from './digest.js';
export { decryptEnvelope, encryptEnvelope } from './envelope.js';
export { EnvelopeOpener, EnvelopeSealer } from './envelope-codec.js';
export type { KekResolver } from './envelope-codec.js';
export { EnvelopeError } from './envelope-error.js';
export type { EnvelopeErrorCode } from './envelope-error.js';
export {
  createEnvelopeHeader,
  DEFAULT_CHUNK_SIZE_BYTES,
  ENVELOPE_FORMAT_VERSION,
  ENVELOPE_MAGIC,
  MAX_CHUNK_SIZE_BYTES,
  readEnvelopeHeader,
} from './envelope-header.js';
export type {
  EncodedEnvelopeHeader,
  EncryptEnvelopeOptions,
  EnvelopeHeader,
} from './envelope-header.js';
export { createDecryptStream, createEncryptStream } from './envelope-stream.js';
export { generateDataKey, unwrapDataKey, wrapDataKey } from './key-wrap.js';
export type { WrapDataKeyOptions, WrappedDataKey } from './key-wrap.js';
