import { describe, expect, it } from 'vitest';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import { accessTokenVerifier, TokenRejectedError, type VerifiedAccessToken } from '../src/auth/token-verifier.js';

const EXP = 1_800_000_000; // seconds
const beforeExp = new Date((EXP - 60) * 1000);

/** A verification the test answers: a payload per token text, every call counted. */
function countingVerification(payloads: Record<string, JwtPayload | Error>) {
  const calls: string[] = [];
  const verifyJwt = async (token: string): Promise<JwtPayload> => {
    calls.push(token);
    const answer = payloads[token];
    if (answer === undefined) throw new Error('unknown token');
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { calls, verifyJwt };
}

const payloadFor = (sub: string, extra: Partial<JwtPayload> = {}): JwtPayload =>
  ({ sub, username: `user-${sub}`, client_id: 'client', exp: EXP, token_use: 'access', 'cognito:groups': ['cooks'], ...extra }) as JwtPayload;

async function reasonOf(promise: Promise<VerifiedAccessToken>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (rejected: unknown) => rejected,
  );
  expect(error).toBeInstanceOf(TokenRejectedError);
  return (error as TokenRejectedError).reason;
}

describe('verified access tokens remembered until their exp', () => {
  it('verifies a token once; its later requests are answered from memory with the same identity', async () => {
    const { calls, verifyJwt } = countingVerification({ 'token-a': payloadFor('a'), 'token-b': payloadFor('b') });
    const verifier = accessTokenVerifier(verifyJwt, () => beforeExp);
    const first = await verifier.verify('token-a');
    expect(await verifier.verify('token-a')).toEqual(first);
    expect(await verifier.verify('token-a')).toEqual({ sub: 'a', username: 'user-a', clientId: 'client', groups: ['cooks'] });
    expect(await verifier.verify('token-b')).toMatchObject({ sub: 'b' });
    expect(calls).toEqual(['token-a', 'token-b']);
  });

  it('past its exp a remembered token is expired, and it is not remembered any more', async () => {
    const { calls, verifyJwt } = countingVerification({ 'token-a': payloadFor('a') });
    let now = beforeExp;
    const verifier = accessTokenVerifier(verifyJwt, () => now);
    await verifier.verify('token-a');
    now = new Date(EXP * 1000 - 1);
    expect(await verifier.verify('token-a')).toMatchObject({ sub: 'a' });
    now = new Date(EXP * 1000);
    expect(await reasonOf(verifier.verify('token-a'))).toBe('expired');
    // Forgotten: the next request goes to the verification again (which, here, still accepts it).
    now = beforeExp;
    await verifier.verify('token-a');
    expect(calls).toEqual(['token-a', 'token-a']);
  });

  it('does not remember a rejection, nor a token without the claims an identity needs', async () => {
    const { calls, verifyJwt } = countingVerification({ forged: new Error('bad signature'), 'no-sub': payloadFor('') });
    const verifier = accessTokenVerifier(verifyJwt, () => beforeExp);
    expect(await reasonOf(verifier.verify('forged'))).toBe('invalid_token');
    expect(await reasonOf(verifier.verify('forged'))).toBe('invalid_token');
    expect(await reasonOf(verifier.verify('no-sub'))).toBe('missing_claims');
    expect(await reasonOf(verifier.verify('no-sub'))).toBe('missing_claims');
    expect(calls).toEqual(['forged', 'forged', 'no-sub', 'no-sub']);
  });

  it('refuses malformed input before any memory or verification', async () => {
    const { calls, verifyJwt } = countingVerification({});
    const verifier = accessTokenVerifier(verifyJwt, () => beforeExp);
    expect(await reasonOf(verifier.verify(''))).toBe('malformed');
    expect(await reasonOf(verifier.verify('x'.repeat(16 * 1024 + 1)))).toBe('malformed');
    expect(calls).toEqual([]);
  });

  it('forgets the oldest token when full, and keeps the others', async () => {
    const payloads = Object.fromEntries(['t1', 't2', 't3', 't4'].map((token) => [token, payloadFor(token)]));
    const { calls, verifyJwt } = countingVerification(payloads);
    const verifier = accessTokenVerifier(verifyJwt, () => beforeExp, 3);
    for (const token of ['t1', 't2', 't3', 't4']) await verifier.verify(token);
    calls.length = 0;
    for (const token of ['t2', 't3', 't4']) await verifier.verify(token);
    expect(calls).toEqual([]);
    await verifier.verify('t1');
    expect(calls).toEqual(['t1']);
  });

  it('gives each caller its own copy: changing one answer does not change the next', async () => {
    const { verifyJwt } = countingVerification({ 'token-a': payloadFor('a') });
    const verifier = accessTokenVerifier(verifyJwt, () => beforeExp);
    const first = await verifier.verify('token-a');
    first.groups.push('platform-admin');
    first.sub = 'someone-else';
    expect(await verifier.verify('token-a')).toMatchObject({ sub: 'a', groups: ['cooks'] });
  });
});
