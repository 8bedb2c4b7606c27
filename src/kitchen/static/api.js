// The kitchen screen's only way to the service: the public API, signed in as a staff member.

const SESSION_KEY = 'tablekit.kitchen.session';
/** Refresh the access token this long before it expires. */
const REFRESH_MARGIN_MS = 60_000;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code;
  }
}

/**
 * The restaurant is the page's own (staff.<domain>, which the API reads from Host) unless the page was
 * opened as /kitchen?restaurant=<domain>, for development on localhost: then every call names it.
 */
export function restaurantOverride() {
  const value = new URLSearchParams(window.location.search).get('restaurant');
  return value === null || value.trim() === '' ? undefined : value.trim();
}

export class Api {
  constructor() {
    this.restaurant = restaurantOverride();
    this.session = readSession();
    this.refreshing = undefined;
    /** Called when the session ends (signed out, or the refresh token no longer works). */
    this.onSignedOut = () => {};
  }

  get signedIn() {
    return this.session !== undefined;
  }

  async signIn(email, password) {
    const tokens = await this.request('/v1/auth/login', { method: 'POST', body: { email, password }, anonymous: true });
    this.keep(tokens.access_token, tokens.refresh_token, tokens.expires_in);
  }

  async signOut() {
    const session = this.session;
    this.forget();
    if (session !== undefined) {
      await this.request('/v1/auth/logout', { method: 'POST', body: { refresh_token: session.refreshToken }, anonymous: true }).catch(() => undefined);
    }
  }

  /** JSON in and out; a 401 refreshes the access token once and tries again. */
  async call(path, { method = 'GET', body } = {}) {
    if (this.session === undefined) throw new ApiError(401, { code: 'unauthenticated', detail: 'Not signed in' });
    if (Date.now() > this.session.expiresAt - REFRESH_MARGIN_MS) await this.refresh();
    try {
      return await this.request(path, { method, body });
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
      await this.refresh();
      return this.request(path, { method, body });
    }
  }

  async refresh() {
    this.refreshing ??= (async () => {
      const session = this.session;
      if (session === undefined) throw new ApiError(401, { code: 'unauthenticated', detail: 'Not signed in' });
      try {
        const tokens = await this.request('/v1/auth/refresh', { method: 'POST', body: { refresh_token: session.refreshToken }, anonymous: true });
        this.keep(tokens.access_token, session.refreshToken, tokens.expires_in);
      } catch (error) {
        if (error instanceof ApiError && (error.status === 400 || error.status === 401)) {
          this.forget();
          this.onSignedOut();
        }
        throw error;
      }
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  async request(path, { method = 'GET', body, anonymous = false }) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.restaurant !== undefined) headers['X-Restaurant-Domain'] = this.restaurant;
    if (!anonymous && this.session !== undefined) headers.Authorization = `Bearer ${this.session.accessToken}`;
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    if (response.status === 204) return undefined;
    const text = await response.text();
    const parsed = text === '' ? undefined : safeJson(text);
    if (!response.ok) throw new ApiError(response.status, parsed);
    return parsed;
  }

  keep(accessToken, refreshToken, expiresInSeconds) {
    this.session = { accessToken, refreshToken, expiresAt: Date.now() + Number(expiresInSeconds) * 1000 };
    // sessionStorage: gone with the tab, never shared with other tabs or written to disk for long.
    window.sessionStorage.setItem(SESSION_KEY, JSON.stringify(this.session));
  }

  forget() {
    this.session = undefined;
    window.sessionStorage.removeItem(SESSION_KEY);
  }
}

function readSession() {
  const stored = safeJson(window.sessionStorage.getItem(SESSION_KEY) ?? '');
  if (stored === undefined || typeof stored.accessToken !== 'string' || typeof stored.refreshToken !== 'string') return undefined;
  return stored;
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
