/** Authentication failures; the message is safe to show a client (never the token or a key). */
export class AuthError extends Error {
  constructor(
    /** `unauthorized`, or `token_expired` when only the expiry is wrong */
    readonly code: 'unauthorized' | 'token_expired',
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}
