/** Who is calling and what the user pool knows of people: shared by auth (which establishes them) and the modules (which use them). */

export type StaffRole = 'manager' | 'kitchen';

/** Who is calling, as established from a verified access token. */
export interface Principal {
  sub: string;
  username: string;
  email: string | undefined;
  isPlatformAdmin: boolean;
}

/** A user of the pool as the API needs to know them. */
export interface DirectoryUser {
  sub: string;
  email: string | undefined;
  name: string | undefined;
  phone: string | undefined;
}

/** Looks users up in the user pool; implemented over Cognito's admin API (src/auth/user-pool-admin.ts). */
export interface UserDirectory {
  /**
   * The user whose username, email or `sub` is `key` (Cognito's AdminGetUser accepts all three in a pool
   * with email as the username), or undefined when there is none.
   */
  findUser(key: string): Promise<DirectoryUser | undefined>;
}
