// Verification of Cognito access tokens (API.md, "Identity and roles"): signature against the
// issuer's JWKS, issuer, expiry, token_use=access and the app client id.
//
// JWKS caching is aws-jwt-verify's: each verifier keeps the JWKS per URI in memory, fetched on
// first use. A token whose kid is not in the cached JWKS triggers one refetch (key rotation);
// if the kid is still missing, further refetches for that URI are refused for 10 seconds
// (SimplePenaltyBox) and such tokens are rejected as unknown_kid, so forged kids cannot make us
// hammer the JWKS endpoint. Tokens with a known kid keep verifying from the cache meanwhile.

import { CognitoJwtVerifier, JwtRsaVerifier } from 'aws-jwt-verify';
import {
  CognitoJwtInvalidClientIdError,
  CognitoJwtInvalidTokenUseError,
  FetchError,
  JwkInvalidKtyError,
  JwkInvalidUseError,
  JwksNotAvailableInCacheError,
  JwksValidationError,
  JwkValidationError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidClaimError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  NonRetryableFetchError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import { setBounded } from '../lib/bounded-map.js';
import { systemClock, type Clock } from '../lib/clock.js';

export interface VerifiedAccessToken {
  sub: string;
  username: string;
  groups: string[];
  clientId: string;
  email?: string;
}

export interface AccessTokenVerifier {
  /** Resolves with the token's identity, or rejects with TokenRejectedError. */
  verify(token: string): Promise<VerifiedAccessToken>;
}

/**
 * `reason` is one of: malformed, missing_kid, unknown_kid, bad_algorithm, bad_signature, expired,
 * not_yet_valid, wrong_issuer, wrong_audience, wrong_client, not_access_token, invalid_claim,
 * missing_claims, jwks_unavailable (our side, not the caller's), invalid_token. It is safe to
 * log: it never carries any part of the token.
 */
export class TokenRejectedError extends Error {
  constructor(readonly reason: string) {
    super(`access token rejected: ${reason}`);
    this.name = 'TokenRejectedError';
  }
}

// Cognito access tokens are around 1 KB; anything far larger is not worth parsing.
const MAX_TOKEN_LENGTH = 16 * 1024;

const JWKS_TIMEOUT_MS = 3_000;

function reasonFor(error: unknown): string {
  if (error instanceof TokenRejectedError) return error.reason;
  if (error instanceof JwtParseError) return 'malformed';
  if (error instanceof JwtWithoutValidKidError) return 'missing_kid';
  if (error instanceof KidNotFoundInJwksError || error instanceof WaitPeriodNotYetEndedJwkError) return 'unknown_kid';
  if (error instanceof JwtInvalidSignatureAlgorithmError) return 'bad_algorithm';
  if (error instanceof JwtInvalidSignatureError) return 'bad_signature';
  if (error instanceof JwtExpiredError) return 'expired';
  if (error instanceof JwtNotBeforeError) return 'not_yet_valid';
  if (error instanceof JwtInvalidIssuerError) return 'wrong_issuer';
  if (error instanceof JwtInvalidAudienceError) return 'wrong_audience';
  if (error instanceof CognitoJwtInvalidClientIdError) return 'wrong_client';
  if (error instanceof CognitoJwtInvalidTokenUseError) return 'not_access_token';
  if (error instanceof JwtInvalidClaimError) return 'invalid_claim';
  if (
    error instanceof FetchError ||
    error instanceof JwksValidationError ||
    error instanceof JwkValidationError ||
    error instanceof JwkInvalidUseError ||
    error instanceof JwkInvalidKtyError ||
    error instanceof JwksNotAvailableInCacheError
  ) {
    return 'jwks_unavailable';
  }
  return 'invalid_token';
}

function toVerified(payload: JwtPayload): VerifiedAccessToken {
  const { sub, username, client_id: clientId, exp, email } = payload;
  const groups = payload['cognito:groups'] ?? [];
  // aws-jwt-verify only checks exp when it is present; a token that never expires is not one we issue.
  if (typeof exp !== 'number') throw new TokenRejectedError('missing_claims');
  if (typeof sub !== 'string' || sub === '' || typeof username !== 'string' || username === '' || typeof clientId !== 'string') {
    throw new TokenRejectedError('missing_claims');
  }
  if (!Array.isArray(groups) || !groups.every((g): g is string => typeof g === 'string')) {
    throw new TokenRejectedError('invalid_claim');
  }
  const verified: VerifiedAccessToken = { sub, username, groups: [...groups], clientId };
  if (typeof email === 'string') verified.email = email;
  return verified;
}

/** How many verified tokens a process remembers (each ~1 KB of text): a dinner rush's signed-in customers and staff. */
const REMEMBERED_TOKENS = 2_000;

/**
 * The verification with a memory: a token verified once is answered from memory until its `exp`, so a
 * customer's cart adds and checkout pay for one signature check, not one each. A token is immutable
 * and verification stateless (revocation never reached an access token before its `exp` either), so the
 * answer cannot change in between. Rejections are not remembered. Past `exp` a remembered token is
 * `expired`, as the library would say; the oldest is forgotten when the memory is full.
 */
export function accessTokenVerifier(
  verifyJwt: (token: string) => Promise<JwtPayload>,
  clock: Clock = systemClock,
  capacity = REMEMBERED_TOKENS,
): AccessTokenVerifier {
  const remembered = new Map<string, { identity: VerifiedAccessToken; expiresAtMs: number }>();
  return {
    async verify(token: string): Promise<VerifiedAccessToken> {
      if (typeof token !== 'string' || token === '' || token.length > MAX_TOKEN_LENGTH) {
        throw new TokenRejectedError('malformed');
      }
      const known = remembered.get(token);
      if (known !== undefined) {
        if (clock().getTime() < known.expiresAtMs) return copyOf(known.identity);
        remembered.delete(token);
        throw new TokenRejectedError('expired');
      }
      let payload: JwtPayload;
      try {
        payload = await verifyJwt(token);
      } catch (error) {
        // The library's messages can quote header or claim values: keep only the reason.
        throw new TokenRejectedError(reasonFor(error));
      }
      const identity = toVerified(payload);
      // toVerified refused any token without a numeric exp.
      setBounded(remembered, token, { identity, expiresAtMs: (payload.exp as number) * 1000 }, capacity);
      return copyOf(identity);
    },
  };
}

/** Each caller gets its own copy: what one request does with the groups cannot reach the memory. */
const copyOf = (identity: VerifiedAccessToken): VerifiedAccessToken => ({ ...identity, groups: [...identity.groups] });

// aws-jwt-verify's own fetcher speaks https only; the emulator serves its JWKS over http.
const plainHttpFetcher: Fetcher = {
  async fetch(uri: string): Promise<ArrayBuffer> {
    let response: Response;
    try {
      response = await fetch(uri, { signal: AbortSignal.timeout(JWKS_TIMEOUT_MS) });
    } catch (error) {
      throw new FetchError(uri, error instanceof Error ? error.message : String(error));
    }
    if (response.status !== 200) {
      throw new NonRetryableFetchError(uri, `Status code is ${response.status}, expected 200`);
    }
    return response.arrayBuffer();
  },
};

/**
 * For the embedded cognito-local: a plain JWKS verifier, since its issuer is not a Cognito URL.
 * Its signing key is public knowledge: never use this against anything but the emulator.
 */
export function createEmulatorVerifier(o: { issuer: string; jwksUri: string; clientId: string; clock?: Clock }): AccessTokenVerifier {
  const verifier = JwtRsaVerifier.create(
    {
      issuer: o.issuer,
      jwksUri: o.jwksUri,
      // Access tokens have no aud; client_id is checked below, as CognitoJwtVerifier does.
      audience: null,
      customJwtCheck: ({ payload }) => {
        if (payload.token_use !== 'access') throw new TokenRejectedError('not_access_token');
        if (payload.client_id !== o.clientId) throw new TokenRejectedError('wrong_client');
      },
    },
    { jwksCache: new SimpleJwksCache({ fetcher: plainHttpFetcher }) },
  );
  return accessTokenVerifier((token) => verifier.verify(token), o.clock);
}

/** For real Cognito: issuer and JWKS URI are derived from the pool id (region included). */
export function createCognitoVerifier(o: { userPoolId: string; clientId: string; clock?: Clock }): AccessTokenVerifier {
  const verifier = CognitoJwtVerifier.create({ userPoolId: o.userPoolId, clientId: o.clientId, tokenUse: 'access' });
  return accessTokenVerifier((token) => verifier.verify(token), o.clock);
}
