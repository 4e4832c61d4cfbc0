import type { FastifyInstance } from "fastify";
import { errors } from "../../domain/errors.js";

/**
 * Refuses text that is not well-formed Unicode (an unpaired UTF-16 surrogate, which JSON's `\ud800` escape
 * can carry). PostgreSQL would store it as U+FFFD, so the row read back differs from the value sent (a join
 * committed, then answered 404), and two different ids would collide; SQLite would keep it as sent. Both
 * backends answer the same 400 instead. Query strings and forms cannot carry one (invalid escapes stay as
 * they are), so only parsed JSON bodies are walked; they are at most 64 KB.
 */
export function registerWellFormedText(app: FastifyInstance): void {
  app.addHook("preValidation", (request, _reply, done) => {
    // Routes that attach validation errors answer in their own shape (the OAuth token endpoint) and see
    // only strings they compare, never store.
    if (request.routeOptions.attachValidation) return done();
    const field = illFormedField(request.body, "");
    done(field === undefined ? undefined : errors.validation(field || "body", "must be well-formed Unicode"));
  });
}

/** The path of the first string (key or value) that is not well-formed, or undefined. */
export function illFormedField(value: unknown, path: string): string | undefined {
  if (typeof value === "string") return value.isWellFormed() ? undefined : path;
  if (typeof value !== "object" || value === null) return undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = illFormedField(item, path === "" ? String(i) : `${path}.${i}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const name = path === "" ? key : `${path}.${key}`;
    if (!key.isWellFormed()) return path || "body";
    const found = illFormedField(item, name);
    if (found !== undefined) return found;
  }
  return undefined;
}
