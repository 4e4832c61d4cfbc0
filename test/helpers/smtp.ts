import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  user: string | undefined;
}

/** A real SMTP server on loopback (no TLS, login required when `credentials` are given). */
export class SmtpReceiver {
  readonly mails: ReceivedMail[] = [];
  /** Answers each message (1-based): undefined accepts, a string rejects with that text. */
  reject: (n: number) => string | undefined = () => undefined;
  private attempts = 0;
  private server: SMTPServer | undefined;

  constructor(private readonly credentials?: { user: string; pass: string }) {}

  async start(): Promise<number> {
    const credentials = this.credentials;
    this.server = new SMTPServer({
      disabledCommands: credentials === undefined ? ["STARTTLS", "AUTH"] : ["STARTTLS"],
      allowInsecureAuth: true,
      authOptional: credentials === undefined,
      logger: false,
      onAuth(auth, _session, callback) {
        if (
          credentials !== undefined &&
          auth.username === credentials.user &&
          auth.password === credentials.pass
        ) {
          callback(null, { user: auth.username });
        } else callback(new Error("invalid login"));
      },
      onData: (stream, session, callback) => {
        let raw = "";
        stream.setEncoding("utf8");
        stream.on("data", (chunk: string) => {
          raw += chunk;
        });
        stream.on("end", () => {
          this.attempts++;
          const rejected = this.reject(this.attempts);
          if (rejected !== undefined) {
            callback(Object.assign(new Error(rejected), { responseCode: 451 }));
            return;
          }
          const from = session.envelope.mailFrom;
          this.mails.push({
            from: from === false ? "" : from.address,
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            user: typeof session.user === "string" ? session.user : undefined,
          });
          callback();
        });
      },
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const address = server.server.address();
    if (address === null || typeof address === "string") throw new Error("smtp not listening");
    return address.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The decoded parts of a simple multipart message: text/plain and text/html, quoted-printable undone. */
export function mailParts(raw: string): { subject: string; text: string; html: string } {
  const subject = /^Subject: (.*(?:\r\n[ \t].*)*)/m.exec(raw)?.[1]?.replace(/\r\n[ \t]/g, " ") ?? "";
  const part = (type: string): string => {
    const match = new RegExp(`Content-Type: ${type}[^]*?\\r\\n\\r\\n([^]*?)\\r\\n--`, "i").exec(raw);
    const body = match?.[1] ?? "";
    return body
      .replace(/=\r\n/g, "")
      .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  };
  return { subject, text: part("text/plain"), html: part("text/html") };
}
