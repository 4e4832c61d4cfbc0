/**
 * Client addresses as counted by the rate and login limits, and the IPv6 arithmetic the callback address
 * policy needs. Pure string work: the addresses come from sockets or proxy headers already.
 */

/** The eight 16-bit groups of an IPv6 address. */
export type Ipv6Groups = [number, number, number, number, number, number, number, number];

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/;

/** The four octets of a dotted IPv4 address, or undefined. */
function ipv4Octets(text: string): number[] | undefined {
  const match = IPV4.exec(text);
  if (match === null) return undefined;
  const octets = match.slice(1).map(Number);
  return octets.every((octet) => octet <= 255) ? octets : undefined;
}

/**
 * The groups of an IPv6 address (`::` expanded, a dotted IPv4 tail converted, a zone index such as `%eth0`
 * ignored), or undefined when it is not one.
 */
export function parseIpv6(address: string): Ipv6Groups | undefined {
  let text = (address.split("%")[0] ?? address).toLowerCase();
  if (text.length > 45 || !text.includes(":")) return undefined;
  const tailStart = text.lastIndexOf(":") + 1;
  const tail = text.slice(tailStart);
  if (tail.includes(".")) {
    const octets = ipv4Octets(tail);
    if (octets === undefined) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = octets;
    text = `${text.slice(0, tailStart)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const before = parse(halves[0] ?? "");
  const after = halves.length === 2 ? parse(halves[1] ?? "") : [];
  const missing = 8 - before.length - after.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...before, ...new Array<string>(missing).fill("0"), ...after];
  if (!groups.every((group) => HEX_GROUP.test(group))) return undefined;
  return groups.map((group) => Number.parseInt(group, 16)) as Ipv6Groups;
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
  if (ipv4Octets(bare) !== undefined) return bare;
  const groups = parseIpv6(bare);
  if (groups === undefined) return `?${bare.slice(0, 64)}`;
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return dottedQuad(groups[6], groups[7]);
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(":")}::/64`;
}
