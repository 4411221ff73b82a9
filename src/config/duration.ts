const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Parses a duration such as `600`, `90s`, `10m`, `12h` or `30d` into whole seconds.
 * A bare number is seconds. Returns `undefined` when the text is not a duration.
 */
export function parseDurationSeconds(text: string): number | undefined {
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/i.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_SECONDS[(match[2] || 's').toLowerCase()];
}
