/** Emails are compared and stored trimmed and lower-cased, in every service. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** class-transformer `@Transform` that trims strings and leaves anything else to validation. */
export const trim = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.trim() : value;

/** No control or format characters in a name: they break logs, terminals and layouts. */
export const NO_CONTROL_CHARS = /^[^\p{Cc}\p{Cf}]*$/u;
