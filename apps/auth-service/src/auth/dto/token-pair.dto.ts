/** The body of a successful login or refresh (CONTRACT §3). */
export interface TokenPairDto {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}
