/**
 * A mergeable histogram of durations with log-scaled buckets (the DDSketch idea): bucket i holds the values
 * in (γ^(i-1), γ^i], γ = (1 + α) / (1 - α). Any quantile read from it is within α of the exact value
 * (relative error), whatever the distribution, and two histograms merge by adding their counts, so the
 * percentiles of a day, a week or ninety days come from hourly rollups without looking at a single ticket.
 *
 * Values are milliseconds. Values below 1 ms count in a zero bucket (read back as 0). With α = 4% a
 * value of 90 days (7.8e9 ms) lands in bucket 285, so a histogram has at most a few hundred buckets and in
 * practice a few dozen (the spread of one queue's waits). Answers round to whole milliseconds, so for
 * waits of 50 ms and more every percentile is within 5% of exact.
 */

/** Relative accuracy of every quantile read from a histogram. */
export const HISTOGRAM_ACCURACY = 0.04;
const GAMMA = (1 + HISTOGRAM_ACCURACY) / (1 - HISTOGRAM_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
/** The largest bucket kept: values above ~3e12 ms (a century) count there. */
const MAX_INDEX = 360;
/** Encoding version, first field of the encoded form. */
const FORMAT = "h1";

export class Histogram {
  /** Counts of buckets offset, offset + 1, …; the array grows at either end as values arrive. */
  private counts: number[] = [];
  private offset = 0;
  private zero = 0;
  private total = 0;

  get count(): number {
    return this.total;
  }

  /** The bucket a value falls in; -1 for the zero bucket. */
  static bucketOf(valueMs: number): number {
    if (!(valueMs >= 1)) return -1;
    return Math.min(MAX_INDEX, Math.max(0, Math.ceil(Math.log(valueMs) / LOG_GAMMA - 1e-9)));
  }

  /** The value a bucket stands for: within α of every value it holds. */
  static valueOf(bucket: number): number {
    if (bucket < 0) return 0;
    return (2 * GAMMA ** bucket) / (GAMMA + 1);
  }

  add(valueMs: number, times = 1): void {
    if (times <= 0) return;
    this.total += times;
    const bucket = Histogram.bucketOf(valueMs);
    if (bucket < 0) {
      this.zero += times;
      return;
    }
    this.bump(bucket, times);
  }

  private bump(bucket: number, times: number): void {
    if (this.counts.length === 0) {
      this.offset = bucket;
      this.counts = [times];
      return;
    }
    if (bucket < this.offset) {
      const grow = this.offset - bucket;
      this.counts = [...new Array<number>(grow).fill(0), ...this.counts];
      this.offset = bucket;
    } else if (bucket >= this.offset + this.counts.length) {
      const grow = bucket - (this.offset + this.counts.length) + 1;
      for (let i = 0; i < grow; i++) this.counts.push(0);
    }
    const i = bucket - this.offset;
    this.counts[i] = (this.counts[i] ?? 0) + times;
  }

  merge(other: Histogram): this {
    if (other.total === 0) return this;
    this.zero += other.zero;
    this.total += other.zero;
    for (let i = 0; i < other.counts.length; i++) {
      const times = other.counts[i] ?? 0;
      if (times > 0) {
        this.bump(other.offset + i, times);
        this.total += times;
      }
    }
    return this;
  }

  /**
   * The q-quantile (0 < q ≤ 1) by nearest rank: the value of the ⌈q·n⌉-th smallest, within α of the
   * exact one; null when the histogram is empty.
   */
  quantile(q: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    if (rank <= this.zero) return 0;
    let seen = this.zero;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Histogram.valueOf(this.offset + i);
    }
    return Histogram.valueOf(this.offset + this.counts.length - 1);
  }

  /** A compact text form for the record: `h1;zero;offset;c,c,c` (empty buckets are empty fields). */
  encode(): string {
    const body = this.counts.map((c) => (c === 0 ? "" : String(c))).join(",");
    return `${FORMAT};${this.zero};${this.offset};${body}`;
  }

  /** Reads `encode`'s form; a malformed one (never written by us) throws rather than reading wrong. */
  static decode(text: string): Histogram {
    const histogram = new Histogram();
    if (text === "") return histogram;
    const [format, zero, offset, body] = text.split(";");
    const zeroCount = Number(zero);
    const first = Number(offset);
    if (format !== FORMAT || body === undefined || !Number.isInteger(zeroCount) || !Number.isInteger(first)) {
      throw new Error("not an encoded histogram");
    }
    histogram.zero = zeroCount;
    histogram.total = zeroCount;
    histogram.offset = first;
    if (body !== "") {
      const fields = body.split(",");
      histogram.counts = new Array<number>(fields.length);
      for (let i = 0; i < fields.length; i++) {
        const field = fields[i] ?? "";
        const times = field === "" ? 0 : Number(field);
        if (!Number.isInteger(times) || times < 0) throw new Error("not an encoded histogram");
        histogram.counts[i] = times;
        histogram.total += times;
      }
    }
    return histogram;
  }
}

const SIZE = MAX_INDEX + 1;
const ZERO_CHAR = 48;
const NINE_CHAR = 57;
const COMMA = 44;
const SEMICOLON = 59;

function malformed(): Error {
  return new Error("not an encoded histogram");
}

/** Where the last `readField` stopped (its ';'); module state, so parsing allocates nothing. */
let fieldEnd = 0;

/** The decimal integer from `at` up to the next ';' (which must come, after at least one digit). */
function readField(text: string, at: number): number {
  let value = 0;
  let i = at;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === SEMICOLON) break;
    if (c < ZERO_CHAR || c > NINE_CHAR) throw malformed();
    value = value * 10 + (c - ZERO_CHAR);
  }
  if (i === at || i >= text.length) throw malformed();
  fieldEnd = i;
  return value;
}

/**
 * A sum of many encoded histograms, for reading: counts in one dense array over every bucket, filled
 * straight from the text form (no histogram objects in between), read, then cleared for the next sum.
 * Analytics over 90 days merge thousands of hourly histograms per answer; this keeps that to a pass over
 * their characters.
 */
export class HistogramSum {
  private readonly counts = new Float64Array(SIZE);
  private zero = 0;
  private total = 0;
  /** The range of buckets that may be non-zero (empty when lo > hi). */
  private lo = SIZE;
  private hi = -1;

  get count(): number {
    return this.total;
  }

  /** Adds a histogram in `Histogram.encode`'s form; a malformed one throws (and may leave a part added). */
  addEncoded(text: string): void {
    if (text === "") return;
    const length = text.length;
    if (
      length < 7 ||
      text.charCodeAt(0) !== 104 ||
      text.charCodeAt(1) !== 49 ||
      text.charCodeAt(2) !== SEMICOLON
    ) {
      throw malformed();
    }
    const zero = readField(text, 3);
    const offset = readField(text, fieldEnd + 1);
    let at = fieldEnd + 1;
    this.zero += zero;
    this.total += zero;
    let bucket = offset;
    let value = 0;
    const counts = this.counts;
    for (; at <= length; at++) {
      const c = at === length ? COMMA : text.charCodeAt(at);
      if (c === COMMA) {
        if (value > 0) {
          if (bucket >= SIZE) throw malformed();
          counts[bucket] = (counts[bucket] ?? 0) + value;
          this.total += value;
          if (bucket < this.lo) this.lo = bucket;
          if (bucket > this.hi) this.hi = bucket;
        }
        bucket++;
        value = 0;
      } else if (c >= ZERO_CHAR && c <= NINE_CHAR) {
        value = value * 10 + (c - ZERO_CHAR);
      } else {
        throw malformed();
      }
    }
  }

  /** Adds another sum's counts. */
  addSum(other: HistogramSum): void {
    this.zero += other.zero;
    this.total += other.total;
    for (let bucket = other.lo; bucket <= other.hi; bucket++) {
      this.counts[bucket] = (this.counts[bucket] ?? 0) + (other.counts[bucket] ?? 0);
    }
    if (other.lo < this.lo) this.lo = other.lo;
    if (other.hi > this.hi) this.hi = other.hi;
  }

  /** As `Histogram.quantile`: nearest rank, within α of exact; null when empty. */
  quantile(q: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    if (rank <= this.zero) return 0;
    let seen = this.zero;
    for (let bucket = this.lo; bucket <= this.hi; bucket++) {
      seen += this.counts[bucket] ?? 0;
      if (seen >= rank) return Histogram.valueOf(bucket);
    }
    return Histogram.valueOf(this.hi);
  }

  clear(): void {
    if (this.hi >= this.lo) this.counts.fill(0, this.lo, this.hi + 1);
    this.zero = 0;
    this.total = 0;
    this.lo = SIZE;
    this.hi = -1;
  }
}
