/**
 * The e-mail address check for accounts (login, user creation, ADMIN_EMAIL). Deliberately loose (one @, a
 * dot inside the domain, no spaces or control characters) and deliberately linear: it checks the length
 * first and then makes one pass over the characters, because it runs on anonymous input at the login
 * endpoint and a backtracking regex there was quadratic (a 64 KB username blocked the event loop for seconds).
 */

/** RFC 5321's limit on a forward path; no address this service stores is longer. */
export const MAX_EMAIL_LENGTH = 254;

/**
 * Characters an address may not hold: what `\s` matches in a JavaScript regex, control characters
 * (PostgreSQL refuses NUL, logs would mangle the rest) and DEL.
 */
function forbidden(code: number): boolean {
  if (code <= 0x20 || code === 0x7f) return true;
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

const AT = 0x40;
const DOT = 0x2e;

export function isEmail(value: string): boolean {
  if (value.length > MAX_EMAIL_LENGTH) return false;
  let at = -1;
  // A dot in the domain that is neither its first nor its last character: "x.y" at least.
  let innerDot = false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === AT) {
      if (at !== -1) return false;
      at = i;
    } else if (forbidden(code)) {
      return false;
    } else if (code === DOT && at !== -1 && i > at + 1 && i < value.length - 1) {
      innerDot = true;
    }
  }
  return at > 0 && innerDot;
}
