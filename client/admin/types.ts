/** The admin API's answers, as docs/api.md describes them (only the fields the console reads). */

export type Role = "admin" | "operator" | "viewer";

export interface Me {
  id: string;
  email: string;
  role: Role;
  application_ids: string[];
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface Application {
  id: string;
  name: string;
  domain: string;
  callback_url: string;
  max_users_per_minute: number | null;
  max_joins_per_second: number | null;
  api_key_prefix: string;
  publishable_key: string;
  origin_policy: "domain" | "subdomains";
  frame_ancestors: string | null;
  alert_emails: string[];
  created_at: string;
}

export interface CreatedApplication extends Application {
  api_key: string;
  webhook_secret: string;
}

export interface PageSettings {
  title?: Record<string, string>;
  message?: Record<string, string>;
  logo_url?: string;
  accent_color?: string;
}

export interface Queue {
  id: string;
  application_id: string;
  name: string;
  max_users_per_minute: number;
  priority: number;
  release_ttl_seconds: number;
  abandon_after_seconds: number;
  admission_ttl_seconds: number;
  redirect_url: string | null;
  page: PageSettings | null;
  alert_threshold: number | null;
  mode: "live" | "simulation";
}

export interface Summary {
  generated_at: string;
  applications: number;
  queues: number;
  waiting: number;
  released: { last_hour: number; today: number };
  expired_today: { abandoned: number; not_seen: number; admission_ended: number };
  callbacks: { failed_today: number; dead_letters: number };
  health: {
    status: string;
    record: string;
    index: string;
    workers: {
      id: string;
      host?: string;
      pid?: number;
      started_at: string;
      last_seen_at: string;
      status: string;
    }[];
  };
}

export interface QueueStats {
  queue_id: string;
  name: string;
  mode: string;
  waiting: number;
  configured_rate_per_minute: number;
  measured_rate_per_minute: number;
  released_last_minute: number;
  joined_total: number;
  longest_wait_seconds: number;
  estimated_drain_seconds: number | null;
  admitted_active: number;
  callbacks: { pending: number; failed: number };
}

export interface CallbackError {
  id: string;
  event_id: string;
  application_id: string;
  queue_id: string;
  url: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
}

export interface Alert {
  id: string;
  kind: string;
  subject: string;
  application_id: string | null;
  state: "firing" | "resolved";
  fired_at: string;
  resolved_at: string | null;
  last_notified_at: string | null;
  details: Record<string, string | number | boolean | null>;
}

export interface User {
  id: string;
  email: string;
  role: Role;
  application_ids: string[];
  disabled_at: string | null;
}

export interface AnalyticsFigures {
  joins: number;
  releases: number;
  cancels: number;
  expired: { abandoned: number; not_seen: number; admission_ended: number };
  wait_ms: { p50: number | null; p90: number | null; p99: number | null };
  peak_waiting: number;
  callbacks: {
    delivered: number;
    failed: number;
    success_rate: number | null;
    duration_p95_ms: number | null;
  };
}

export interface Analytics {
  application_id: string;
  queue_id: string | null;
  days: number;
  granularity: "day" | "hour";
  from: string;
  to: string;
  series: (AnalyticsFigures & { start: string })[];
  totals: AnalyticsFigures;
}

export interface Jwks {
  keys: { kid?: string; alg?: string; kty?: string; use?: string }[];
}
