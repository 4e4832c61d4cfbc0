import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { language, num } from "./i18n.js";

export interface ChartSeries {
  label: string;
  /** The theme's colour: 1 to 4 (`--series-N`). */
  color: 1 | 2 | 3 | 4;
  dashed?: boolean;
  /** On a scale of its own, with its axis on the right (a count beside rates). */
  right?: boolean;
}

/** The labels of the time axis, by what a tick spans. */
export type TimeFormat = "time" | "day" | "hour";

const FORMATS: Record<TimeFormat, Intl.DateTimeFormatOptions> = {
  time: { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false },
  // Day buckets are UTC days (the API's): label them as such wherever the browser is.
  day: { month: "short", day: "numeric", timeZone: "UTC" },
  hour: { month: "short", day: "numeric", hour: "2-digit", hour12: false },
};

/**
 * A time-series chart (uPlot, x in seconds since the epoch) that follows its container's width. The
 * legend is the page's own (so it reads in the page's direction); time runs left to right in every
 * language, with the labels in the page's language.
 */
export function Chart({
  title,
  series,
  data,
  time = "time",
  height = 220,
  id,
}: {
  title: string;
  series: ChartSeries[];
  data: uPlot.AlignedData;
  time?: TimeFormat;
  height?: number;
  id?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = `${series.map((s) => `${s.label}:${s.color}:${s.right === true}`).join("|")}|${time}|${height}`;

  useEffect(() => {
    const element = box.current;
    if (element === null) return;
    const style = getComputedStyle(document.documentElement);
    const color = (name: string) => style.getPropertyValue(name).trim() || "#888";
    const lines = {
      stroke: color("--muted"),
      grid: { stroke: color("--grid"), width: 1 },
      ticks: { stroke: color("--grid"), width: 1 },
    };
    const numbers = (_u: uPlot, values: number[]) => values.map((value) => num(value, 1));
    const dates = new Intl.DateTimeFormat(language(), FORMATS[time]);
    const axes: uPlot.Axis[] = [
      { ...lines, space: 90, values: (_u, splits) => splits.map((s) => dates.format(new Date(s * 1000))) },
      { ...lines, values: numbers, size: 56 },
    ];
    if (series.some((s) => s.right === true))
      axes.push({ ...lines, scale: "right", side: 1, grid: { show: false }, values: numbers, size: 56 });
    const made = new uPlot(
      {
        width: Math.max(200, element.clientWidth),
        height,
        legend: { show: false },
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: color(`--series-${s.color}`),
            width: 2,
            ...(s.right === true ? { scale: "right" } : {}),
            ...(s.dashed === true ? { dash: [6, 4] } : {}),
          })),
        ],
        axes,
        scales: { x: { time: true } },
        cursor: { drag: { x: false, y: false } },
      },
      data,
      element,
    );
    plot.current = made;
    const resize = new ResizeObserver(() =>
      made.setSize({ width: Math.max(200, element.clientWidth), height }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      made.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return (
    <figure class="chart" id={id}>
      <figcaption>{title}</figcaption>
      <ul class="legend">
        {series.map((s) => (
          <li key={s.label}>
            <span
              class={`swatch swatch-${s.color}${s.dashed === true ? " dashed" : ""}`}
              aria-hidden="true"
            />
            {s.label}
          </li>
        ))}
      </ul>
      <div class="chart-box" dir="ltr" ref={box} />
    </figure>
  );
}
