/**
 * Why a client assertion was refused: `reason` is a stable code for the audit trail and tests,
 * `description` what the client reads (never a token or key).
 */
export class AssertionRefusal extends Error {
  override readonly name = 'AssertionRefusal';

  constructor(
    readonly reason: string,
    readonly description: string,
  ) {
    super(description);
  }
}
