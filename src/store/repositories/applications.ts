import type { Page, PageRequest, Visibility } from "../types.js";

export interface Application {
  id: string;
  name: string;
  domain: string;
  callback_url: string;
  max_users_per_minute: number | null;
  /** Joins a second; null means the deployment's default (RATE_LIMIT_JOINS_PER_SECOND). */
  max_joins_per_second: number | null;
  api_key_prefix: string;
  created_at: string;
  updated_at: string;
}

export interface ApplicationWithSecret extends Application {
  webhook_secret_enc: string;
}

export interface NewApplication {
  name: string;
  domain: string;
  callback_url: string;
  max_users_per_minute: number | null;
  max_joins_per_second: number | null;
  api_key_hash: string;
  api_key_prefix: string;
  webhook_secret_enc: string;
}

export type ApplicationPatch = Partial<
  Pick<Application, "name" | "domain" | "callback_url" | "max_users_per_minute" | "max_joins_per_second">
>;

export interface ApplicationRepository {
  create(app: NewApplication, now: string): Promise<ApplicationWithSecret>;
  /** Live (not deleted) applications only. */
  findById(id: string): Promise<ApplicationWithSecret | undefined>;
  findByApiKeyHash(hash: string): Promise<ApplicationWithSecret | undefined>;
  list(visible: Visibility, page: PageRequest): Promise<Page<Application>>;
  update(id: string, patch: ApplicationPatch, now: string): Promise<Application | undefined>;
  rotateApiKey(id: string, hash: string, prefix: string, now: string): Promise<boolean>;
  /** Replaces a live application's sealed webhook secret. */
  replaceWebhookSecret(id: string, sealed: string, now: string): Promise<boolean>;
  /** Every application's sealed webhook secret, deleted ones included (resealing after a key rotation). */
  sealedWebhookSecrets(): Promise<{ id: string; webhook_secret_enc: string }[]>;
  /** Swaps one sealed value for another sealing of the same secret, unless it changed meanwhile. */
  resealWebhookSecret(id: string, from: string, to: string): Promise<boolean>;
  /** Soft delete of the application and every queue in it, in one transaction. */
  softDelete(id: string, now: string): Promise<boolean>;
}
