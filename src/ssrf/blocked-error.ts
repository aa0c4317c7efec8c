/**
 * A target the SSRF guard refused. The sender records it as error class
 * `blocked` (src/delivery/classify-error.ts matches the name).
 */
export class HeraldBlockedError extends Error {
  override readonly name = 'HeraldBlockedError';
  readonly code = 'HeraldBlockedError';
  constructor(
    message: string,
    /** The refused address and the range it fell in. */
    readonly address: string,
    readonly range: string,
  ) {
    super(message);
  }
}
