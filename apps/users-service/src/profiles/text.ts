// Same rules as auth-service's registration (auth/email.ts, dto/register.dto.ts), so a value
// accepted there is accepted here and stored the same way.

/** Emails are compared and stored trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** class-transformer `@Transform` that trims strings and leaves anything else to validation. */
export const trim = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.trim() : value;

/** No control or format characters in a name: they break logs, terminals and layouts. */
export const NO_CONTROL_CHARS = /^[^\p{Cc}\p{Cf}]*$/u;

/**
 * Bio is free text over several lines: tab and line breaks are allowed, other control
 * characters and the bidirectional overrides/isolates (text-spoofing) are not. Other format
 * characters stay allowed, because emoji sequences need the zero-width joiner.
 */
export const BIO_CHARS = /^(?:[\t\n\r]|[^\p{Cc}\u202A-\u202E\u2066-\u2069])*$/u;
