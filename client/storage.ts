/**
 * What the browser keeps: its device secret (made once, sent with every join so that a place is bound to
 * this browser) and each place's token, keyed by application, queue and visitor, so that a reload or a
 * second tab keeps one place. localStorage when the browser allows it, else memory (this page only).
 */
const PREFIX = "anteroom:";
const memory = new Map<string, string>();

/** `use` on localStorage; undefined when the browser refuses it (blocked, full, private mode). */
function local<T>(use: (storage: Storage) => T): T | undefined {
  try {
    return use(window.localStorage);
  } catch {
    return undefined;
  }
}

export function read(key: string): string | null {
  return local((storage) => storage.getItem(PREFIX + key)) ?? memory.get(key) ?? null;
}

export function write(key: string, value: string): void {
  memory.set(key, value);
  local((storage) => storage.setItem(PREFIX + key, value));
}

export function remove(key: string): void {
  memory.delete(key);
  local((storage) => storage.removeItem(PREFIX + key));
}

/** 32 characters of base64url from 24 random bytes. */
export function randomSecret(): string {
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** This browser's device secret, made on first use. */
export function deviceSecret(): string {
  let secret = read("device");
  if (secret === null || !/^[A-Za-z0-9_-]{22,128}$/.test(secret)) {
    secret = randomSecret();
    write("device", secret);
  }
  return secret;
}

/** A kept place: the visitor token and the largest position seen (where progress is measured from). */
export interface Place {
  token: string;
  start: number;
}

export function placeKey(app: string, queueId: string, visitorId: string): string {
  return `place:${app}:${queueId}:${visitorId}`;
}

export function parsePlace(text: string | null): Place | undefined {
  if (text === null) return undefined;
  try {
    const value = JSON.parse(text) as Partial<Place>;
    return typeof value.token === "string" && value.token !== ""
      ? { token: value.token, start: typeof value.start === "number" ? value.start : 0 }
      : undefined;
  } catch {
    return undefined;
  }
}

export function readPlace(key: string): Place | undefined {
  return parsePlace(read(key));
}

export function writePlace(key: string, place: Place): void {
  write(key, JSON.stringify(place));
}

/** Calls `onChange` when another tab changes `key` (the new value, or null when removed). */
export function watch(key: string, onChange: (value: string | null) => void): () => void {
  const listener = (event: StorageEvent) => {
    if (event.key === PREFIX + key) onChange(event.newValue);
  };
  window.addEventListener("storage", listener);
  return () => window.removeEventListener("storage", listener);
}
