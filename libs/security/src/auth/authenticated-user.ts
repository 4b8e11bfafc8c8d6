/** The caller as an access token describes it. */
export interface AuthenticatedUser {
  id: string;
  email: string;
  roles: string[];
  /** The token's session (`sid` claim): revoking it ends every access token of the session. */
  sessionId?: string;
}
