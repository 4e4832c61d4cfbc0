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

/**
 * The path of the first string (key or value) that is not well-formed, or undefined. Iterative: a 64 KB
 * body can nest 30,000 arrays deep, which would overflow the stack of a recursive walk.
 */
export function illFormedField(value: unknown, path: string): string | undefined {
  const pending: [unknown, string][] = [[value, path]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, at] = next;
    if (typeof item === "string") {
      if (!item.isWellFormed()) return at;
      continue;
    }
    if (typeof item !== "object" || item === null) continue;
    const entries = Array.isArray(item) ? item.entries() : Object.entries(item);
    const children: [unknown, string][] = [];
    for (const [key, child] of entries) {
      if (typeof key === "string" && !key.isWellFormed()) return at || "body";
      children.push([child, at === "" ? String(key) : `${at}.${key}`]);
    }
    // Reversed onto the stack, so fields are looked at in order and the first bad one is named.
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i] as [unknown, string]);
  }
  return undefined;
}
