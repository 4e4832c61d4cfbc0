import { randomUUID } from "node:crypto";

/** A caller's X-Request-Id is kept when it is this sane (logged, echoed); otherwise one is made. */
const SANE = /^[\w.:-]{1,64}$/;
// A random per-process prefix and a counter: unique across processes and cheap to make.
const PREFIX = randomUUID().slice(0, 8);
let count = 0;

/** The id of a request: the caller's X-Request-Id when sane, else `<process prefix>-<counter>`. */
export function requestIdOf(incoming: string | string[] | undefined): string {
  if (typeof incoming === "string" && SANE.test(incoming)) return incoming;
  count += 1;
  return `${PREFIX}-${count.toString(36)}`;
}
