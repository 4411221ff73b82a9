/** Metadata keys written by @Auth() / @Public() and read by JwtAuthGuard. */
export const REQUIRED_SCOPES = 'tessera:guard:scopes';
export const IS_PUBLIC = 'tessera:guard:public';
