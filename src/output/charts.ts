// Charts as SVG text, rendered at build time with Apache ECharts' server-side SVG renderer (no
// browser, no script in the output): a report embeds them inline and opens offline. ECharts
// escapes label text itself; callers still pass only names msgscope made (ids, addresses, status
// names) as labels.
import * as echarts from 'echarts';

export interface Series {
  readonly name: string;
  /** [time in ms since the epoch, value] */
  readonly points: readonly (readonly [number, number])[];
}

const WIDTH = 960;
const PALETTE = ['#2f6fb0', '#d9822b', '#3a9a5b', '#c23b3b', '#7b5ea7', '#8c6d46', '#d15fa0', '#6f6f6f', '#b5b52a', '#2aa7b5'];

function render(option: echarts.EChartsOption, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height });
  try {
    chart.setOption({ animation: false, color: PALETTE, textStyle: { fontFamily: 'sans-serif' }, ...option });
    return chart.renderToSVGString();
  } finally {
    // Disposing stops ECharts' timers (the process would not exit otherwise).
    chart.dispose();
  }
}

/** Messages per time bucket, one line per series, on a time axis spanning the data. */
export function timeSeriesChart(title: string, series: readonly Series[], yName: string, bucketMs: number): string {
  let min = Infinity;
  let max = -Infinity;
  for (const s of series) for (const [t] of s.points) {
    min = Math.min(min, t);
    max = Math.max(max, t);
  }
  const axis = min === Infinity ? {} : { min: min - bucketMs, max: max + bucketMs };
  return render(
    {
      title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
      legend: { bottom: 0, type: 'plain' },
      grid: { left: 60, right: 30, top: 40, bottom: 60 },
      xAxis: { type: 'time', ...axis },
      yAxis: { type: 'value', name: yName, minInterval: 1 },
      series: series.map((s) => ({ name: s.name, type: 'line', showSymbol: s.points.length < 40, data: s.points.map((p) => [p[0], p[1]]) })),
    },
    360,
  );
}

/** Horizontal bars, largest on top; several value sets are stacked. */
export function barChart(title: string, labels: readonly string[], sets: readonly { readonly name: string; readonly values: readonly number[] }[]): string {
  const height = Math.max(160, 60 + labels.length * 24);
  return render(
    {
      title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
      legend: sets.length > 1 ? { bottom: 0 } : { show: false },
      grid: { left: 150, right: 40, top: 40, bottom: sets.length > 1 ? 50 : 20 },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', data: [...labels].reverse(), axisLabel: { width: 140, overflow: 'truncate' } },
      series: sets.map((s) => ({ name: s.name, type: 'bar', stack: sets.length > 1 ? 'all' : undefined, data: [...s.values].reverse(), label: { show: sets.length === 1, position: 'right' } })),
    },
    height,
  );
}

/** Shares of a whole, as a ring. */
export function pieChart(title: string, slices: readonly { readonly name: string; readonly value: number }[]): string {
  return render(
    {
      title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
      legend: { bottom: 0 },
      series: [{ type: 'pie', radius: ['35%', '65%'], center: ['50%', '50%'], data: slices.map((s) => ({ name: s.name, value: s.value })), label: { formatter: '{b}: {c}' } }],
    },
    320,
  );
}
