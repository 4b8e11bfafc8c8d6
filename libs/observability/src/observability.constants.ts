export const REQUEST_ID_HEADER = 'x-request-id';
/** Incoming request ids are kept only when they match this (CONTRACT §5). */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
