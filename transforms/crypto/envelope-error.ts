/**
 * Stable codes for envelope failures. Callers branch on these; the message is fixed text per
 * call site and never carries key material, plaintext or a crypto library's own message.
 */
export type EnvelopeErrorCode =
  | 'ENVELOPE_BAD_MAGIC'
  | 'ENVELOPE_UNSUPPORTED_VERSION'
  | 'ENVELOPE_BAD_HEADER'
  | 'ENVELOPE_TRUNCATED'
  | 'ENVELOPE_AUTH_FAILED'
  | 'ENVELOPE_UNKNOWN_KEY'
  | 'ENVELOPE_INVALID_OPTION'
  | 'ENVELOPE_TOO_LARGE';

/**
 * Thrown by the envelope functions. Unlike the other transforms, which return failed outcomes,
 * these throw: decryption runs on the main thread (reading archives and quarantined files), so
 * there is no worker boundary to cross. No `cause` is attached, because OpenSSL and JSON parser
 * messages can quote the bytes they choked on.
 */
export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';

  readonly code: EnvelopeErrorCode;

  /** The same bytes and the same key give the same failure, so a retry cannot help. */
  readonly retryable = false;

  /**
   * @param code - the stable code callers branch on
   * @param message - fixed text naming what was expected; never interpolate data into it
   */
  constructor(code: EnvelopeErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
