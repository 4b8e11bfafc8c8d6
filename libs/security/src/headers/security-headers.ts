import { type IncomingMessage, type ServerResponse } from 'node:http';
import helmet from 'helmet';

/**
 * helmet tuned for a JSON API: a CSP that allows nothing to load or frame, HSTS, nosniff,
 * `x-frame-options: DENY`, `referrer-policy: no-referrer`, and same-origin COOP/CORP.
 */
export const securityHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
    },
  },
  crossOriginOpenerPolicy: { policy: 'same-origin' },
  crossOriginResourcePolicy: { policy: 'same-origin' },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
});

/**
 * The headers {@link securityHeaders} sets, as name/value pairs, for answers written
 * outside express (malformed requests answered from the socket).
 */
export function staticSecurityHeaders(): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.push([name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value)]);
    },
    removeHeader() {},
  };
  securityHeaders({} as IncomingMessage, res as unknown as ServerResponse, () => undefined);
  return headers;
}
