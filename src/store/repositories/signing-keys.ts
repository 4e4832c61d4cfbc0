import type { SigningKeysTable } from "../schema.js";

export type SigningKeyRow = SigningKeysTable;

export interface SigningKeyRepository {
  list(): Promise<SigningKeyRow[]>;
  insert(row: SigningKeyRow): Promise<void>;
  /** Retires every key older than this one (still published for verification); with `revoke`, unpublishes them. */
  retireOlder(key: { kid: string; created_at: string }, now: string, revoke: boolean): Promise<void>;
  /** Swaps a key's sealed private half for another sealing of it, unless it changed meanwhile. */
  reseal(kid: string, from: string, to: string): Promise<boolean>;
}
