// The builder lives in the platform library, which every library and app depends on.
export { type ErrorBody, errorBody, statusText } from '@keel/platform/http/error-body';
