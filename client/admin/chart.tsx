import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { language, num } from "./i18n.js";

export interface ChartSeries {
  label: string;
  /** A CSS custom property of the theme (`--series-1`), read when the chart is made. */
  color: string;
  dashed?: boolean;
}

/** A time-series chart (uPlot, x in seconds since the epoch) that follows its container's width. */
export function Chart({
  title,
  series,
  data,
  height = 220,
  id,
}: {
  title: string;
  series: ChartSeries[];
  data: uPlot.AlignedData;
  height?: number;
  id?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => s.label).join("|");

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
    const yAxis: uPlot.Axis = { ...lines, values: (_u, values) => values.map((value) => num(value, 1)) };
    const dates = new Intl.DateTimeFormat(language(), {
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    });
    const made = new uPlot(
      {
        width: Math.max(200, element.clientWidth),
        height,
        series: [
          { value: (_u, value) => (value === null ? "—" : dates.format(new Date(value * 1000))) },
          ...series.map((s) => ({
            label: s.label,
            stroke: color(s.color),
            width: 2,
            ...(s.dashed === true ? { dash: [6, 4] } : {}),
            value: (_u: uPlot, value: number | null) => (value === null ? "—" : num(value, 1)),
          })),
        ],
        axes: [lines, yAxis],
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
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return (
    <figure class="chart" id={id}>
      <figcaption>{title}</figcaption>
      {/* Time runs left to right in every language. */}
      <div class="chart-box" dir="ltr" ref={box} />
    </figure>
  );
}
