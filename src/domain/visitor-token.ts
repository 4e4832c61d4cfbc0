import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The visitor token: opaque to the browser, URL-safe, and verified without touching storage.
 * Layout (base64url of 39 bytes, 52 characters):
 *   [0]      version (1)
 *   [1..17)  queue id, the 16 bytes of its UUID
 *   [17..23) ticket number (seq), 48-bit big-endian
 *   [23..39) HMAC-SHA256 of bytes [0..23) under the visitor-token key, first 16 bytes
 * Seqs are never reused within a queue, so a token names one ticket forever.
 */
const VERSION = 1;
const BODY = 23;
const MAC = 16;
const LENGTH = BODY + MAC;
const ENCODED_LENGTH = Math.ceil((LENGTH * 4) / 3);
const TOKEN_PATTERN = /^[A-Za-z0-9_-]+$/;
/** Queue ids seen in tokens, by their 16 raw bytes: a poll then formats no UUID. Bounded by live queues. */
const MAX_CACHED_QUEUES = 10_000;

export interface VisitorTicketRef {
  queueId: string;
  seq: number;
}

function uuidBytes(uuid: string, into: Buffer, offset: number): void {
  into.write(uuid.replaceAll("-", ""), offset, 16, "hex");
}

function uuidString(bytes: Buffer, offset: number): string {
  const hex = bytes.toString("hex", offset, offset + 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class VisitorTokens {
  private readonly queueIds = new Map<string, string>();

  /** `previous`: the key of SECRET_KEY_PREVIOUS during a rotation; its tokens still verify. */
  constructor(
    private readonly key: Buffer,
    private readonly previous?: Buffer,
  ) {}

  private queueIdOf(bytes: Buffer): string {
    const raw = bytes.toString("latin1", 1, 17);
    let id = this.queueIds.get(raw);
    if (id === undefined) {
      id = uuidString(bytes, 1);
      if (this.queueIds.size >= MAX_CACHED_QUEUES) this.queueIds.clear();
      this.queueIds.set(raw, id);
    }
    return id;
  }

  private mac(body: Buffer, key = this.key): Buffer {
    return createHmac("sha256", key).update(body).digest().subarray(0, MAC);
  }

  issue(ref: VisitorTicketRef): string {
    const token = Buffer.alloc(LENGTH);
    token[0] = VERSION;
    uuidBytes(ref.queueId, token, 1);
    token.writeUIntBE(ref.seq, 17, 6);
    this.mac(token.subarray(0, BODY)).copy(token, BODY);
    return token.toString("base64url");
  }

  /** The ticket a token names, or undefined for anything malformed, altered, or signed under another key. */
  verify(token: unknown): VisitorTicketRef | undefined {
    if (typeof token !== "string" || token.length !== ENCODED_LENGTH || !TOKEN_PATTERN.test(token))
      return undefined;
    const bytes = Buffer.from(token, "base64url");
    if (bytes.length !== LENGTH || bytes[0] !== VERSION) return undefined;
    const body = bytes.subarray(0, BODY);
    const sent = bytes.subarray(BODY);
    if (
      !timingSafeEqual(this.mac(body), sent) &&
      (this.previous === undefined || !timingSafeEqual(this.mac(body, this.previous), sent))
    ) {
      return undefined;
    }
    return { queueId: this.queueIdOf(bytes), seq: bytes.readUIntBE(17, 6) };
  }
}
