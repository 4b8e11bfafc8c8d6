/** The caller as an access token describes it. */
export interface AuthenticatedUser {
  id: string;
  email: string;
  roles: string[];
}
