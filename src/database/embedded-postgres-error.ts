/**
 * The embedded engine could not start, for a reason the operator can fix. The message is one line that
 * says what to do; start-up prints it without a stack.
 */
export class EmbeddedDatabaseError extends Error {
  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, ' '));
    this.name = 'EmbeddedDatabaseError';
  }
}
