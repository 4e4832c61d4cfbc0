import { cloneElement, type JSX, type VNode } from "preact";
import { useCallback, useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError, get } from "./api.js";
import { t } from "./i18n.js";
import type { Application, Page } from "./types.js";

/** An API error as the operator reads it: what went wrong in words, and the API's code and message. */
export function ErrorBox({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  const api = error instanceof ApiError ? error : new ApiError(0, "internal_error", String(error));
  const known = t(`error.${api.code}`);
  const headline = known === `error.${api.code}` ? t("error.generic") : known;
  return (
    <div class="error" role="alert">
      <strong>{headline}</strong>
      <span class="detail">
        {api.code}
        {api.status > 0 ? ` (${api.status})` : ""}: {api.field === undefined ? "" : `${api.field}: `}
        {api.message}
      </span>
    </div>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Loads once per change of `key` (and on reload); the latest answer wins. */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  const latest = useRef(0);
  // `key` stands for what `load` reads: a new key loads again.
  useEffect(() => {
    const mine = ++latest.current;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => mine === latest.current && setState({ data, loading: false }),
      (error: unknown) => mine === latest.current && setState({ error, loading: false }),
    );
  }, [key, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** Runs an action, keeping its error and whether it is under way. */
export function useAction(): {
  busy: boolean;
  error: unknown;
  run: (action: () => Promise<void>) => Promise<boolean>;
  clear: () => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = useCallback(async (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      return true;
    } catch (caught) {
      setError(caught);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: () => setError(undefined) };
}

/** A labelled control; the hint is its description (aria-describedby), not part of its name. */
export function Field({ label, hint, children }: { label: string; hint?: string; children: VNode }) {
  const id = useId();
  const control = cloneElement(children, {
    id,
    ...(hint === undefined ? {} : { "aria-describedby": `${id}-hint` }),
  });
  return (
    <div class="field">
      <label class="label" for={id}>
        {label}
      </label>
      {control}
      {hint === undefined ? null : (
        <span class="hint" id={`${id}-hint`}>
          {hint}
        </span>
      )}
    </div>
  );
}

export function Loading({ loaded }: { loaded: { loading: boolean; error: unknown } }) {
  if (loaded.error !== undefined) return <ErrorBox error={loaded.error} />;
  return loaded.loading ? (
    <p class="muted" aria-live="polite">
      {t("common.loading")}
    </p>
  ) : null;
}

export function Stat({ label, value, note }: { label: string; value: string; note?: string }) {
  return (
    <div class="stat">
      <span class="stat-label">{label}</span>
      <span class="stat-value">{value}</span>
      {note === undefined ? null : <span class="stat-note">{note}</span>}
    </div>
  );
}

/** Previous and next over a `{items, total}` list. */
export function Pager({
  offset,
  limit,
  total,
  onChange,
}: {
  offset: number;
  limit: number;
  total: number;
  onChange: (offset: number) => void;
}) {
  if (total <= limit) return null;
  return (
    <nav class="pager" aria-label={t("common.pages")}>
      <button type="button" disabled={offset === 0} onClick={() => onChange(Math.max(0, offset - limit))}>
        {t("common.previous")}
      </button>
      <span>{t("common.range", { from: offset + 1, to: Math.min(total, offset + limit), total })}</span>
      <button type="button" disabled={offset + limit >= total} onClick={() => onChange(offset + limit)}>
        {t("common.next")}
      </button>
    </nav>
  );
}

/** The applications the caller may see (at most 200, the API's page). */
export function useApplications(): Loaded<Page<Application>> {
  return useLoad(() => get<Page<Application>>("/applications/?limit=200"), "applications");
}

/** A select of applications; `value` "" means none chosen. */
export function AppSelect({
  apps,
  value,
  onChange,
  allowAll = false,
}: {
  apps: Application[];
  value: string;
  onChange: (id: string) => void;
  allowAll?: boolean;
}) {
  return (
    <Field label={t("common.application")}>
      <select value={value} onChange={(event) => onChange(event.currentTarget.value)}>
        {allowAll ? <option value="">{t("common.all")}</option> : null}
        {!allowAll && value === "" ? <option value="">{t("common.choose")}</option> : null}
        {apps.map((app) => (
          <option key={app.id} value={app.id}>
            {app.name}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** The trimmed text of a form field, or undefined when empty. */
export function text(form: FormData, name: string): string | undefined {
  const value = form.get(name);
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

/** A whole number from a form field: undefined when empty, NaN kept for the API to refuse by name. */
export function integer(form: FormData, name: string): number | undefined {
  const value = text(form, name);
  return value === undefined ? undefined : Number(value);
}

export type FormEvent = JSX.TargetedEvent<HTMLFormElement, Event>;

/** The form's data, with the browser's submit kept from reloading the page. */
export function formOf(event: FormEvent): FormData {
  event.preventDefault();
  return new FormData(event.currentTarget);
}
