export const IS_PUBLIC_KEY = 'keel:isPublic';
export const ROLES_KEY = 'keel:roles';
/** Access tokens are signed with one of these and nothing else (no `none`, no HMAC). */
export const ACCESS_TOKEN_ALGORITHMS = ['ES256'];
export const ACCESS_TOKEN_ISSUER = 'keel-auth';
export const ACCESS_TOKEN_AUDIENCE = 'keel';
/**
 * Where a token-signing service serves its public keys (RFC 8615 well-known location); the
 * apps that verify tokens build their JWKS URL from it and the signer's URL.
 */
export const JWKS_PATH = '/.well-known/jwks.json';
