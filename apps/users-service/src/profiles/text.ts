/**
 * Bio is free text over several lines: tab and line breaks are allowed, other control
 * characters and the bidirectional overrides/isolates (text-spoofing) are not. Other format
 * characters stay allowed, because emoji sequences need the zero-width joiner.
 */
export const BIO_CHARS = /^(?:[\t\n\r]|[^\p{Cc}\u202A-\u202E\u2066-\u2069])*$/u;
