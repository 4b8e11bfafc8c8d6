/** Development-only shared secret; refused when NODE_ENV=production. */
export const DEV_INTERNAL_TOKEN = 'keel-dev-internal-token-not-for-production';

/**
 * Every secret value that appears in this repository — the development default in code, the
 * compose file's former default and the Kubernetes Secret's placeholders — and therefore is
 * no secret at all. With `NODE_ENV=production` an app refuses to start with any of them. The
 * unit test beside this file reads `docker/` and `k8s/` and fails when a secret value there is
 * missing here.
 */
export const PUBLISHED_SECRET_VALUES: readonly string[] = [
  DEV_INTERNAL_TOKEN,
  'compose-internal-token-change-me',
  'CHANGE-ME',
];

/** The environment variables holding secrets that {@link PUBLISHED_SECRET_VALUES} guards. */
export const SECRET_VARIABLES: readonly string[] = ['INTERNAL_TOKEN', 'JWT_PRIVATE_KEY'];

/** Shortest `INTERNAL_TOKEN` production accepts (about 192 bits as base64). */
export const MIN_PRODUCTION_INTERNAL_TOKEN_LENGTH = 32;

/** Whether a secret's value is one published in the repository (whitespace and `\n` escapes aside). */
export function isPublishedSecret(value: string): boolean {
  const normalized = value.replace(/\\n/g, '\n').trim();
  return PUBLISHED_SECRET_VALUES.some((known) => known === normalized);
}
