import type { Page, PageRequest, Role } from "../types.js";

export interface User {
  id: string;
  email: string;
  role: Role;
  created_at: string;
  updated_at: string;
  disabled_at: string | null;
  /** Admin tokens issued before this instant are no longer accepted (password changed). */
  sessions_valid_from: string | null;
}

export interface UserWithSecret extends User {
  password_hash: string;
}

export interface NewUser {
  email: string;
  password_hash: string;
  role: Role;
}

export interface UserPatch {
  role?: Role;
  password_hash?: string;
  disabled_at?: string | null;
  sessions_valid_from?: string;
}

export interface UserRepository {
  create(user: NewUser, now: string): Promise<User>;
  findById(id: string): Promise<User | undefined>;
  findByEmail(email: string): Promise<UserWithSecret | undefined>;
  list(page: PageRequest): Promise<Page<User>>;
  update(id: string, patch: UserPatch, now: string): Promise<User | undefined>;
  delete(id: string): Promise<boolean>;
  grants(userId: string): Promise<string[]>;
  grant(userId: string, applicationId: string, now: string): Promise<void>;
  revoke(userId: string, applicationId: string): Promise<boolean>;
}
