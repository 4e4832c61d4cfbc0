/**
 * The HTTP request-duration histogram, kept by hand: it is observed on every request, including tens of
 * thousands of status polls a second, and a general-purpose client library spends more per observation
 * (label objects, hashing, validation) than a visitor's whole poll. Series are keyed by method, route
 * pattern and status code, all from bounded sets. Rendered in Prometheus text format at scrape time.
 */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

interface Series {
  labels: string;
  counts: Float64Array;
  sum: number;
  count: number;
}

const escapeLabel = (value: string): string =>
  value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export class HttpDurations {
  readonly name = "http_request_duration_seconds";
  private readonly series = new Map<string, Series>();

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let series = this.series.get(key);
    if (series === undefined) {
      series = {
        labels: `method="${escapeLabel(method)}",route="${escapeLabel(route)}",status_code="${status}"`,
        counts: new Float64Array(BUCKETS.length),
        sum: 0,
        count: 0,
      };
      this.series.set(key, series);
    }
    let i = 0;
    while (i < BUCKETS.length && seconds > (BUCKETS[i] ?? Number.POSITIVE_INFINITY)) i++;
    if (i < BUCKETS.length) series.counts[i] = (series.counts[i] ?? 0) + 1;
    series.sum += seconds;
    series.count += 1;
  }

  render(): string {
    const lines = [
      `# HELP ${this.name} HTTP request durations by route pattern`,
      `# TYPE ${this.name} histogram`,
    ];
    for (const series of this.series.values()) {
      let cumulative = 0;
      BUCKETS.forEach((le, i) => {
        cumulative += series.counts[i] ?? 0;
        lines.push(`${this.name}_bucket{le="${le}",${series.labels}} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket{le="+Inf",${series.labels}} ${series.count}`);
      lines.push(`${this.name}_sum{${series.labels}} ${series.sum}`);
      lines.push(`${this.name}_count{${series.labels}} ${series.count}`);
    }
    return `${lines.join("\n")}\n`;
  }
}
