// chart.tsx - a uPlot chart with pane's overlays: deploy markers (blue line,
// dashed red when the deploy failed), alert bands (violet), one cursor shared
// by every chart of the page, and drag-to-select a window.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'preact/hooks';
import { Series } from './api';
import { clock, fmtNum } from './time';

// Okabe-Ito: distinct for the common colour-vision deficiencies.
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#8c8c8c', '#F0E442'];

export interface Marker {
  id?: string;
  ts: number; // ms
  label: string;
  failed?: boolean;
}
export interface Band {
  from: number; // ms
  to: number;
  label: string;
}

export interface ChartProps {
  title?: string;
  series: Series[];
  from: number;
  to: number;
  step: number;
  unit?: string;
  legend?: (m: Record<string, string>) => string;
  markers?: Marker[];
  bands?: Band[];
  height?: number;
  sync?: string;
  cursorTs?: number | null; // ms: shown as the cursor (another chart or the logs)
  onHover?: (ts: number | null) => void;
  onSelect?: (from: number, to: number) => void;
}

// Puts series with the same step on one x axis (seconds), null where absent.
export function align(series: Series[], from: number, to: number, step: number): uPlot.AlignedData {
  const s0 = Math.floor(from / step) * step;
  const n = Math.max(1, Math.floor((to - s0) / step) + 1);
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) xs[i] = (s0 + i * step) / 1000;
  const out: (number | null)[][] = [];
  for (const s of series) {
    const ys: (number | null)[] = new Array(n).fill(null);
    for (const [t, v] of s.values) {
      const i = Math.round((t * 1000 - s0) / step);
      if (i >= 0 && i < n) {
        const f = parseFloat(v);
        ys[i] = isFinite(f) ? f : null;
      }
    }
    out.push(ys);
  }
  return [xs as unknown as number[], ...out] as uPlot.AlignedData;
}

export function defaultLegend(m: Record<string, string>) {
  const keys = Object.keys(m).filter((k) => k !== '__name__');
  if (!keys.length) return m.__name__ || 'value';
  return keys.map((k) => `${k}=${m[k]}`).join(', ');
}

function overlay(u: uPlot, markers: Marker[], bands: Band[]) {
  let layer = u.over.querySelector('.ov') as HTMLDivElement | null;
  if (!layer) {
    layer = document.createElement('div');
    layer.className = 'ov';
    u.over.appendChild(layer);
  }
  layer.textContent = '';
  const w = u.over.clientWidth;
  for (const b of bands) {
    const l = Math.max(0, u.valToPos(b.from / 1000, 'x'));
    const r = Math.min(w, u.valToPos(b.to / 1000, 'x'));
    if (r <= 0 || l >= w) continue;
    const d = document.createElement('div');
    d.className = 'band';
    d.style.left = l + 'px';
    d.style.width = Math.max(2, r - l) + 'px';
    d.title = '▲ alert: ' + b.label;
    layer.appendChild(d);
  }
  for (const m of markers) {
    const x = u.valToPos(m.ts / 1000, 'x');
    if (x < 0 || x > w) continue;
    const d = document.createElement('div');
    d.className = 'marker' + (m.failed ? ' failed' : '');
    d.style.left = x + 'px';
    d.dataset.ts = String(m.ts);
    if (m.id) d.dataset.id = m.id;
    d.title = (m.failed ? '✗ ' : '✓ ') + m.label;
    layer.appendChild(d);
  }
}

export function Chart(p: ChartProps) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const props = useRef(p);
  props.current = p;

  useEffect(() => {
    const host = el.current!;
    const legend = p.legend || defaultLegend;
    const data = align(p.series, p.from, p.to, p.step);
    const width = Math.max(200, host.clientWidth || 400);
    const opts: uPlot.Options = {
      width,
      height: p.height || 160,
      legend: { show: false },
      cursor: {
        sync: p.sync ? { key: p.sync } : undefined,
        drag: { x: true, y: false, setScale: false },
        points: { size: 6 },
      },
      scales: { x: { time: true, min: p.from / 1000, max: p.to / 1000 } },
      axes: [
        { stroke: 'var(--muted)', grid: { stroke: 'var(--grid)', width: 1 }, ticks: { show: false }, font: '11px system-ui' },
        {
          stroke: 'var(--muted)',
          grid: { stroke: 'var(--grid)', width: 1 },
          ticks: { show: false },
          size: 54,
          font: '11px system-ui',
          values: (_u, vals) => vals.map((v) => fmtNum(v, p.unit)),
        },
      ],
      series: [
        {},
        ...p.series.map((s, i) => ({
          label: legend(s.metric),
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          points: { show: false },
          spanGaps: false,
        })),
      ],
      hooks: {
        draw: [(u) => overlay(u, props.current.markers || [], props.current.bands || [])],
        setCursor: [
          (u) => {
            const idx = u.cursor.idx;
            const f = props.current.onHover;
            if (!f) return;
            if (idx === null || idx === undefined || u.cursor.left! < 0) f(null);
            else f((u.data[0][idx] as number) * 1000);
          },
        ],
        setSelect: [
          (u) => {
            if (u.select.width < 3) return;
            const a = u.posToVal(u.select.left, 'x') * 1000;
            const b = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
            props.current.onSelect?.(Math.round(a), Math.round(b));
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
      },
    };
    // stroke colours from CSS variables do not work on canvas: resolve them
    const cs = getComputedStyle(host);
    for (const ax of opts.axes!) {
      ax.stroke = cs.getPropertyValue('--muted').trim() || '#888';
      (ax.grid as any).stroke = cs.getPropertyValue('--grid').trim() || '#eee';
    }
    // the time to build and draw a chart, for bench/run-console.sh (a performance measure)
    performance.mark('pane-chart-start');
    let measured = false;
    opts.hooks!.draw!.push(() => {
      if (measured) return;
      measured = true;
      performance.measure('pane-chart-draw', 'pane-chart-start');
    });
    const u = new uPlot(opts, data, host);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = host.clientWidth;
      if (w && Math.abs(w - u.width) > 2) u.setSize({ width: w, height: u.height });
    });
    ro.observe(host);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [p.series, p.from, p.to, p.step, p.unit]);

  useEffect(() => {
    plot.current?.redraw(false, false);
  }, [p.markers, p.bands]);

  const empty = !p.series.length || p.series.every((s) => !s.values.length);
  const legend = p.legend || defaultLegend;
  return (
    <div class="chart">
      {p.title && <div class="chart-title">{p.title}</div>}
      <div ref={el} class="chart-canvas" data-empty={empty ? '1' : '0'} />
      {empty && <div class="chart-empty">no data in this range</div>}
      {!empty && (
        <div class="legend">
          {p.series.slice(0, 12).map((s, i) => {
            const v = s.values.length ? parseFloat(s.values[s.values.length - 1][1]) : NaN;
            return (
              <span class="li">
                <span class="sw" style={{ background: PALETTE[i % PALETTE.length] }} />
                {legend(s.metric)} <span class="muted num">{fmtNum(v, p.unit)}</span>
              </span>
            );
          })}
          {p.series.length > 12 && <span class="muted">+{p.series.length - 12} more</span>}
          {(p.markers || []).length > 0 && (
            <span class="li">
              <span class="sw deploy" /> deploy <span class="sw deploy failed" /> failed deploy
            </span>
          )}
        </div>
      )}
    </div>
  );
}

// A tiny line for tables: no axes, no cursor.
export function Sparkline(p: { values: (number | null)[]; width?: number; height?: number; color?: string; markers?: number[]; from?: number; to?: number }) {
  const el = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = el.current!;
    const w = p.width || 90,
      h = p.height || 22;
    const dpr = window.devicePixelRatio || 1;
    c.width = w * dpr;
    c.height = h * dpr;
    const g = c.getContext('2d')!;
    g.scale(dpr, dpr);
    g.clearRect(0, 0, w, h);
    const vs = p.values;
    let lo = Infinity,
      hi = -Infinity;
    for (const v of vs) if (v !== null) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
    if (p.markers && p.from !== undefined && p.to !== undefined) {
      g.strokeStyle = '#0072B2';
      g.lineWidth = 1;
      // deploys as short ticks along the top edge: many deploys stay readable
      for (const m of p.markers) {
        const x = ((m - p.from) / (p.to - p.from)) * w;
        if (x < 0 || x > w) continue;
        g.beginPath();
        g.moveTo(x + 0.5, 0);
        g.lineTo(x + 0.5, 4);
        g.stroke();
      }
    }
    if (lo === Infinity) return;
    if (hi === lo) (hi = lo + 1), (lo = lo - 1);
    g.strokeStyle = p.color || '#8c8c8c';
    g.lineWidth = 1.25;
    g.beginPath();
    let pen = false;
    vs.forEach((v, i) => {
      if (v === null) return void (pen = false);
      const x = (i / Math.max(1, vs.length - 1)) * w;
      const y = h - 2 - ((v - lo) / (hi - lo)) * (h - 4);
      if (pen) g.lineTo(x, y);
      else g.moveTo(x, y);
      pen = true;
    });
    g.stroke();
  }, [p.values, p.markers]);
  return <canvas ref={el} class="spark" style={{ width: (p.width || 90) + 'px', height: (p.height || 22) + 'px' }} />;
}

export { clock };
