/** Errors that mean "the database is not reachable right now" (→ 503, retry), not a bug. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300', // too_many_connections
]);

const CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
  'the database system is shutting down',
  'the database system is starting up',
];

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    const candidate = e as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
    if (typeof candidate.code === 'string' && CONNECTION_CODES.has(candidate.code)) return true;
    if (typeof candidate.message === 'string' && CONNECTION_MESSAGES.some((m) => (candidate.message as string).includes(m))) {
      return true;
    }
    e = candidate.driverError ?? candidate.cause;
  }
  return false;
}

/** Postgres unique_violation, for mapping a constraint to 409. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e?.driverError?.code ?? e?.code;
  const name = e?.driverError?.constraint ?? e?.constraint;
  return code === '23505' && (constraint === undefined || name === constraint);
}

/**
 * Postgres data exceptions a request's values can cause (class 22: a NUL or a character the
 * encoding lacks, a number out of range, text that is not a uuid…). Input checks refuse these
 * first (common/http/hostile-input.ts); this is the backstop that keeps them a 400, never a 500.
 */
const INVALID_DATA_CODES = new Set(['22001', '22003', '22021', '22P02', '22P05', '2200H', '22007', '22008']);

export function isInvalidInputData(error: unknown): boolean {
  const e = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' && INVALID_DATA_CODES.has(code);
}
