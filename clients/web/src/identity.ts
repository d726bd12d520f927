// Who this tab signs in as. The device (the MQTT client id) is made once per
// tab and kept in sessionStorage: a reload is the same device, so it resumes
// from its own cursor, while a second tab is a second device and does not
// take over the first one's connection (MQTT allows one connection per
// client id).

export interface Identity {
  user: string;
  device: string;
  url: string;
  /** Signed in with a password, which is not stored: a reload asks again. */
  needsPassword?: boolean;
}

const KEY = 'courier.identity';
const TAB_KEY = 'courier.tab';

function tabSuffix(): string {
  let s = sessionStorage.getItem(TAB_KEY);
  if (!s) {
    s = Math.random().toString(36).slice(2, 10);
    sessionStorage.setItem(TAB_KEY, s);
  }
  return s;
}

export function deviceFor(user: string): string {
  return `${user || 'user'}-web-${tabSuffix()}`;
}

export function defaultUrl(): string {
  // The page is served by Mosquitto's http_dir on its websockets listener,
  // so the broker is at the page's own origin.
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}`;
}

/** The identity this tab signed in with, if it did and did not sign out. */
export function saved(): Identity | undefined {
  const s = sessionStorage.getItem(KEY);
  if (!s) return undefined;
  try {
    return JSON.parse(s) as Identity;
  } catch {
    return undefined;
  }
}

export function save(id: Identity): void {
  sessionStorage.setItem(KEY, JSON.stringify(id));
  localStorage.setItem('courier.lastUser', id.user);
}

export function forget(): void {
  sessionStorage.removeItem(KEY);
}

export function lastUser(): string {
  return localStorage.getItem('courier.lastUser') ?? '';
}
