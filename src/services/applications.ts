import type { Access } from "../domain/access.js";
import type { Clock } from "../domain/clock.js";
import { isEmail } from "../domain/email.js";
import { errors } from "../domain/errors.js";
import type { ChangeEvents } from "../domain/events.js";
import type { OriginPolicy } from "../domain/model.js";
import {
  apiKeyPrefix,
  type DerivedKeys,
  encryptAtRest,
  generateApiKey,
  generatePublishableKey,
  generateWebhookSecret,
  hashApiKey,
} from "../domain/secrets.js";
import { iso } from "../domain/time.js";
import { checkCallbackUrl } from "../net/address-policy.js";
import type { Application, ApplicationPatch, Page, PageRequest, Store } from "../store/types.js";

export interface AdminDeps {
  store: Store;
  clock: Clock;
  keys: DerivedKeys;
  allowPrivateCallbacks: boolean;
  /** Where admin changes are announced, so every process's caches drop what changed. */
  events: ChangeEvents;
  /** The hot index, told that a new queue is complete (empty) so it needs no rebuild before its first poll. */
  queueIndex: { markLoaded(queueId: string): Promise<void> };
}

export interface ApplicationInput {
  name: string;
  domain: string;
  callback_url: string;
  max_users_per_minute?: number | null;
  max_joins_per_second?: number | null;
  origin_policy?: OriginPolicy;
  frame_ancestors?: string | null;
  alert_emails?: string[];
}

export interface CreatedApplication extends Application {
  api_key: string;
  webhook_secret: string;
}

const DOMAIN_PATTERN =
  /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

export function normalizeDomain(domain: string): string {
  const value = domain.trim().toLowerCase().replace(/\.$/, "");
  if (!DOMAIN_PATTERN.test(value))
    throw errors.validation("domain", "must be a host name such as shop.example.com");
  return value;
}

const MAX_ALERT_EMAILS = 20;

/** Alert recipients in their normal form (trimmed, lowercase, each once); a 400 naming the field otherwise. */
export function alertEmailsOf(emails: readonly string[]): string[] {
  const normal = [...new Set(emails.map((email) => email.trim().toLowerCase()))];
  if (normal.length > MAX_ALERT_EMAILS)
    throw errors.validation("alert_emails", `at most ${MAX_ALERT_EMAILS}`);
  const bad = normal.find((email) => !isEmail(email));
  if (bad !== undefined) throw errors.validation("alert_emails", "must be e-mail addresses");
  return normal;
}

const MAX_FRAME_SOURCES = 16;
const MAX_FRAME_SOURCE_LENGTH = 200;
const HTTPS_ORIGIN = /^https:\/\/([^/:?#@\\]+)(?::(\d{1,5}))?$/i;

/** One source of frame-ancestors in its normal form, or undefined when it is not one we accept. */
function frameSource(source: string): string | undefined {
  if (source === "'self'" || source === "'none'") return source;
  if (source.length > MAX_FRAME_SOURCE_LENGTH) return undefined;
  const match = HTTPS_ORIGIN.exec(source);
  const host = match?.[1]?.toLowerCase();
  const port = match?.[2];
  if (host === undefined || !DOMAIN_PATTERN.test(host)) return undefined;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) return undefined;
  return `https://${host}${port === undefined ? "" : `:${port}`}`;
}

/**
 * Who may frame the application's waiting page: the value goes verbatim into a CSP header, so only plain
 * https origins and 'self' or 'none' are taken (no wildcards, schemes, paths, or other directives, which
 * could widen or break the policy). Space-separated, at most 16; returned normalised.
 */
export function normalizeFrameAncestors(value: string): string {
  const fail = (message: string) => errors.validation("frame_ancestors", message);
  const sources = value.split(" ").filter((source) => source !== "");
  if (sources.length === 0) throw fail("must name at least one origin (null restores the default)");
  if (sources.length > MAX_FRAME_SOURCES) throw fail(`at most ${MAX_FRAME_SOURCES} origins`);
  if (sources.includes("'none'") && sources.length > 1) throw fail("'none' must stand alone");
  const normalized = sources.map((source) => {
    const checked = frameSource(source);
    if (checked === undefined) {
      throw fail(
        `${JSON.stringify(source.slice(0, 40))} is not https://host[:port], 'self' or 'none' (each at most ${MAX_FRAME_SOURCE_LENGTH} characters)`,
      );
    }
    return checked;
  });
  return [...new Set(normalized)].join(" ");
}

const frameAncestorsOf = (value: string | null): string | null =>
  value === null ? null : normalizeFrameAncestors(value);

/** Applications (sites) as one tenant-scoped caller sees them. */
export class ApplicationService {
  constructor(
    private readonly access: Access,
    private readonly deps: AdminDeps,
  ) {}

  private now(): string {
    return iso(this.deps.clock.now());
  }

  private async checkCallback(url: string): Promise<string> {
    const checked = await checkCallbackUrl(url, { allowPrivate: this.deps.allowPrivateCallbacks });
    return checked.url.toString();
  }

  async create(input: ApplicationInput): Promise<CreatedApplication> {
    this.access.require("application:create");
    const apiKey = generateApiKey();
    const webhookSecret = generateWebhookSecret();
    const app = await this.deps.store.applications.create(
      {
        name: input.name.trim(),
        domain: normalizeDomain(input.domain),
        callback_url: await this.checkCallback(input.callback_url),
        max_users_per_minute: input.max_users_per_minute ?? null,
        max_joins_per_second: input.max_joins_per_second ?? null,
        api_key_hash: hashApiKey(apiKey),
        api_key_prefix: apiKeyPrefix(apiKey),
        webhook_secret_enc: encryptAtRest(this.deps.keys.atRest, webhookSecret),
        publishable_key: generatePublishableKey(),
        origin_policy: input.origin_policy ?? "domain",
        frame_ancestors: frameAncestorsOf(input.frame_ancestors ?? null),
        alert_emails: alertEmailsOf(input.alert_emails ?? []),
      },
      this.now(),
    );
    const { webhook_secret_enc: _sealed, ...visible } = app;
    return { ...visible, api_key: apiKey, webhook_secret: webhookSecret };
  }

  async list(page: PageRequest): Promise<Page<Application>> {
    this.access.require("application:read");
    return this.deps.store.applications.list(this.access.visibility, page);
  }

  /** The application if this caller may see it; otherwise a 404, whether or not it exists. */
  async get(id: string): Promise<Application> {
    if (!this.access.canSee(id)) throw errors.notFound("application");
    const app = await this.deps.store.applications.findById(id);
    if (app === undefined) throw errors.notFound("application");
    this.access.require("application:read");
    const { webhook_secret_enc: _sealed, ...visible } = app;
    return visible;
  }

  async update(id: string, input: Partial<ApplicationInput>): Promise<Application> {
    await this.get(id);
    this.access.require("application:write");
    // The join limit protects the service from a tenant, so the tenant's own operators may not raise it.
    if (input.max_joins_per_second !== undefined && this.access.actor.role !== "admin") {
      throw errors.forbidden("only an admin may change max_joins_per_second");
    }
    const patch: ApplicationPatch = {};
    if (input.name !== undefined) patch.name = input.name.trim();
    if (input.domain !== undefined) patch.domain = normalizeDomain(input.domain);
    if (input.callback_url !== undefined) patch.callback_url = await this.checkCallback(input.callback_url);
    if (input.max_users_per_minute !== undefined) patch.max_users_per_minute = input.max_users_per_minute;
    if (input.max_joins_per_second !== undefined) patch.max_joins_per_second = input.max_joins_per_second;
    if (input.origin_policy !== undefined) patch.origin_policy = input.origin_policy;
    if (input.frame_ancestors !== undefined) patch.frame_ancestors = frameAncestorsOf(input.frame_ancestors);
    if (input.alert_emails !== undefined) patch.alert_emails = alertEmailsOf(input.alert_emails);
    const updated = await this.deps.store.applications.update(id, patch, this.now());
    if (updated === undefined) throw errors.notFound("application");
    this.deps.events.applicationChanged(id);
    return updated;
  }

  async remove(id: string): Promise<void> {
    await this.get(id);
    this.access.require("application:delete");
    if (!(await this.deps.store.applications.softDelete(id, this.now()))) {
      throw errors.notFound("application");
    }
    this.deps.events.applicationChanged(id);
  }

  async rotateApiKey(id: string): Promise<{ id: string; api_key: string; api_key_prefix: string }> {
    await this.get(id);
    this.access.require("application:write");
    const apiKey = generateApiKey();
    const rotated = await this.deps.store.applications.rotateApiKey(
      id,
      hashApiKey(apiKey),
      apiKeyPrefix(apiKey),
      this.now(),
    );
    if (!rotated) throw errors.notFound("application");
    this.deps.events.applicationChanged(id);
    return { id, api_key: apiKey, api_key_prefix: apiKeyPrefix(apiKey) };
  }

  /**
   * A new publishable key; the old one stops working at once (in every process that hears the change).
   * Pages that carry the key, or fetched it from /public/applications/{id}, need the new one.
   */
  async rotatePublishableKey(id: string): Promise<{ id: string; publishable_key: string }> {
    await this.get(id);
    this.access.require("application:write");
    const key = generatePublishableKey();
    if (!(await this.deps.store.applications.rotatePublishableKey(id, key, this.now()))) {
      throw errors.notFound("application");
    }
    this.deps.events.applicationChanged(id);
    return { id, publishable_key: key };
  }

  /** A new webhook secret, shown once: callbacks sent from now on are signed with it. */
  async rotateWebhookSecret(id: string): Promise<{ id: string; webhook_secret: string }> {
    await this.get(id);
    this.access.require("application:write");
    const webhookSecret = generateWebhookSecret();
    const sealed = encryptAtRest(this.deps.keys.atRest, webhookSecret);
    if (!(await this.deps.store.applications.replaceWebhookSecret(id, sealed, this.now()))) {
      throw errors.notFound("application");
    }
    return { id, webhook_secret: webhookSecret };
  }
}
