import type { Access } from "../domain/access.js";
import { isEmail } from "../domain/email.js";
import { errors } from "../domain/errors.js";
import { iso } from "../domain/time.js";
import type { Page, PageRequest, Role, User, UserPatch } from "../store/types.js";
import { UniqueViolation } from "../store/types.js";
import type { AdminDeps } from "./applications.js";
import { hashPassword, MIN_PASSWORD_LENGTH } from "./auth.js";

export interface UserInput {
  email: string;
  password: string;
  role: Role;
}

export interface UserUpdate {
  role?: Role;
  password?: string;
  disabled?: boolean;
}

export interface UserView extends User {
  application_ids: string[];
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw errors.validation("password", `must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
}

/** Creates the first admin (at boot or from the CLI); idempotent by email. */
export async function ensureUser(
  deps: Pick<AdminDeps, "store" | "clock">,
  input: UserInput,
): Promise<{ user: User; created: boolean }> {
  const email = input.email.trim().toLowerCase();
  if (!isEmail(email)) throw errors.validation("email", "is not an email address");
  checkPassword(input.password);
  const existing = await deps.store.users.findByEmail(email);
  if (existing !== undefined) {
    const { password_hash: _hash, ...user } = existing;
    return { user, created: false };
  }
  const user = await deps.store.users.create(
    { email, password_hash: await hashPassword(input.password), role: input.role },
    iso(deps.clock.now()),
  );
  return { user, created: true };
}

/** User accounts and their application grants; admins only. */
export class UserService {
  constructor(
    private readonly access: Access,
    private readonly deps: AdminDeps,
  ) {}

  private now(): string {
    return iso(this.deps.clock.now());
  }

  private async view(user: User): Promise<UserView> {
    return {
      ...user,
      application_ids: user.role === "admin" ? [] : await this.deps.store.users.grants(user.id),
    };
  }

  async create(input: UserInput): Promise<UserView> {
    this.access.require("user:manage");
    const email = input.email.trim().toLowerCase();
    if (!isEmail(email)) throw errors.validation("email", "is not an email address");
    checkPassword(input.password);
    try {
      const user = await this.deps.store.users.create(
        { email, password_hash: await hashPassword(input.password), role: input.role },
        this.now(),
      );
      return this.view(user);
    } catch (error) {
      if (error instanceof UniqueViolation)
        throw errors.conflict(`a user with email ${email} already exists`);
      throw error;
    }
  }

  async list(page: PageRequest): Promise<Page<UserView>> {
    this.access.require("user:manage");
    const result = await this.deps.store.users.list(page);
    return { items: await Promise.all(result.items.map((user) => this.view(user))), total: result.total };
  }

  async get(id: string): Promise<UserView> {
    this.access.require("user:manage");
    const user = await this.deps.store.users.findById(id);
    if (user === undefined) throw errors.notFound("user");
    return this.view(user);
  }

  async update(id: string, input: UserUpdate): Promise<UserView> {
    await this.get(id);
    if (id === this.access.actor.userId && (input.role !== undefined || input.disabled === true)) {
      throw errors.conflict("you cannot change your own role or disable yourself");
    }
    const patch: UserPatch = {};
    if (input.role !== undefined) patch.role = input.role;
    if (input.password !== undefined) {
      checkPassword(input.password);
      patch.password_hash = await hashPassword(input.password);
      patch.sessions_valid_from = this.now(); // a changed password ends the sessions of the old one
    }
    if (input.disabled !== undefined) {
      patch.disabled_at = input.disabled ? this.now() : null;
      // Disabling ends every session for good: without this, re-enabling would revive the old tokens.
      patch.sessions_valid_from = this.now();
    }
    const user = await this.deps.store.users.update(id, patch, this.now());
    if (user === undefined) throw errors.notFound("user");
    return this.view(user);
  }

  async remove(id: string): Promise<void> {
    await this.get(id);
    if (id === this.access.actor.userId) throw errors.conflict("you cannot delete yourself");
    await this.deps.store.users.delete(id);
  }

  async grant(id: string, applicationId: string): Promise<UserView> {
    const user = await this.get(id);
    if (user.role === "admin")
      throw errors.conflict("admins see every application; grants apply to operators and viewers");
    if ((await this.deps.store.applications.findById(applicationId)) === undefined) {
      throw errors.notFound("application");
    }
    await this.deps.store.users.grant(id, applicationId, this.now());
    return this.get(id);
  }

  async revoke(id: string, applicationId: string): Promise<void> {
    await this.get(id);
    if (!(await this.deps.store.users.revoke(id, applicationId))) throw errors.notFound("grant");
  }
}
