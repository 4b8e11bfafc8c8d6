export { REQUEST_ID_HEADER } from '@keel/platform/http/headers';
/** Incoming request ids are kept only when they match this (CONTRACT §5). */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
