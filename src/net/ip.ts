import { isIP } from "node:net";

/** The eight 16-bit groups of an IPv6 address; `::` is expanded and a dotted IPv4 tail converted. */
export type Ipv6Groups = [number, number, number, number, number, number, number, number];

/** The groups of an address `isIP` accepts as IPv6 (a zone index, `%eth0`, is ignored). */
export function ipv6Groups(address: string): Ipv6Groups {
  let text = (address.split("%")[0] ?? address).toLowerCase();
  const tailStart = text.lastIndexOf(":") + 1;
  const tail = text.slice(tailStart);
  if (tail.includes(".")) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split(".").map(Number);
    text = `${text.slice(0, tailStart)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const parse = (part: string) =>
    part === "" ? [] : part.split(":").map((group) => Number.parseInt(group, 16));
  const before = parse(head);
  const after = rest === undefined ? [] : parse(rest);
  return [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after] as Ipv6Groups;
}

/** a.b.c.d from two 16-bit groups. */
export function dottedQuad(high: number, low: number): string {
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/**
 * What one client is, for counting its requests (rate limits, login failures): an IPv4 address (also when
 * written IPv4-mapped), or an IPv6 address's /64, which one subscriber or host is usually given whole;
 * anything else (never expected from a socket) by its first 64 characters.
 */
export function clientKey(address: string): string {
  const bare = address.split("%")[0] ?? address;
  const kind = isIP(bare);
  if (kind === 4) return bare;
  if (kind !== 6) return `?${bare.slice(0, 64)}`;
  const groups = ipv6Groups(bare);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return dottedQuad(groups[6], groups[7]);
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(":")}::/64`;
}
