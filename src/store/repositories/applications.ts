import type { OriginPolicy, Page, PageRequest, Visibility } from "../types.js";

export interface Application {
  id: string;
  name: string;
  domain: string;
  callback_url: string;
  max_users_per_minute: number | null;
  /** Joins a second; null means the deployment's default (RATE_LIMIT_JOINS_PER_SECOND). */
  max_joins_per_second: number | null;
  api_key_prefix: string;
  /** Public by design: pages carry it (joins only, from the application's origins). */
  publishable_key: string;
  origin_policy: OriginPolicy;
  /** Origins that may frame the waiting page, space-separated (CSP syntax); null: the domain's own. */
  frame_ancestors: string | null;
  /** Who receives this application's alerts besides ADMIN_EMAIL. */
  alert_emails: string[];
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
  publishable_key: string;
  origin_policy: OriginPolicy;
  frame_ancestors: string | null;
  alert_emails: string[];
}

export type ApplicationPatch = Partial<
  Pick<
    Application,
    | "name"
    | "domain"
    | "callback_url"
    | "max_users_per_minute"
    | "max_joins_per_second"
    | "origin_policy"
    | "frame_ancestors"
    | "alert_emails"
  >
>;

export interface ApplicationRepository {
  create(app: NewApplication, now: string): Promise<ApplicationWithSecret>;
  /** Live (not deleted) applications only. */
  findById(id: string): Promise<ApplicationWithSecret | undefined>;
  findByApiKeyHash(hash: string): Promise<ApplicationWithSecret | undefined>;
  /** A live application by its publishable key. */
  findByPublishableKey(key: string): Promise<Application | undefined>;
  /** Replaces a live application's publishable key (the old one stops working). */
  rotatePublishableKey(id: string, key: string, now: string): Promise<boolean>;
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
