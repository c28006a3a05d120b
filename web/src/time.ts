// time.ts - the console's one time range (from/to in the URL) and formats.
const UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

// "-6h" -> now-6h, "now" -> now, "1700000000000" -> that ms, ISO -> parsed.
export function parseTime(s: string | null | undefined, now: number, dflt: number): number {
  if (!s) return dflt;
  if (s === 'now') return now;
  const m = /^now-?(\d+)([smhdw])$|^-(\d+)([smhdw])$/.exec(s);
  if (m) return now - Number(m[1] || m[3]) * UNITS[m[2] || m[4]];
  if (/^\d+$/.test(s)) return Number(s);
  const t = Date.parse(s);
  return isNaN(t) ? dflt : t;
}

export function parseDuration(s: string): number {
  const m = /^(\d+)([smhdw])$/.exec(s);
  return m ? Number(m[1]) * UNITS[m[2]] : 0;
}

export interface Range {
  from: number;
  to: number;
  fromStr: string;
  toStr: string;
}

// "now" for relative ranges is fixed between refreshes, so a page asks for
// the same window until the user or the auto-refresh moves it.
let anchor = Date.now();
export function setNow(t: number) {
  anchor = t;
}

export function rangeOf(params: URLSearchParams, now = anchor): Range {
  const fromStr = params.get('from') || '-6h';
  const toStr = params.get('to') || 'now';
  const to = parseTime(toStr, now, now);
  let from = parseTime(fromStr, now, now - 6 * 3600e3);
  if (from >= to) from = to - 3600e3;
  return { from, to, fromStr, toStr };
}

// A step so a chart gets no more points than it has pixels (rounded to nice seconds).
export function stepFor(r: Range, px = 600): number {
  const raw = (r.to - r.from) / Math.max(50, px);
  const nice = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400].map((s) => s * 1000);
  for (const n of nice) if (n >= raw) return n;
  return 86400e3;
}

export function ago(ts: number, now = Date.now()): string {
  const d = Math.max(0, now - ts) / 1000;
  if (d < 60) return Math.round(d) + 's';
  if (d < 3600) return Math.round(d / 60) + 'm';
  if (d < 86400) return Math.round(d / 3600) + 'h';
  return Math.round(d / 86400) + 'd';
}

const pad = (n: number) => String(n).padStart(2, '0');
export function clock(ts: number, seconds = true): string {
  const d = new Date(ts);
  return pad(d.getHours()) + ':' + pad(d.getMinutes()) + (seconds ? ':' + pad(d.getSeconds()) : '');
}
export function dateTime(ts: number): string {
  const d = new Date(ts);
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + clock(ts);
}

export function fmtNum(v: number | null | undefined, unit = ''): string {
  if (v === null || v === undefined || !isFinite(v)) return '—';
  if (unit === '%') return (v * 100).toFixed(v < 0.1 ? 1 : 0) + '%';
  if (unit === 's') return v < 1 ? Math.round(v * 1000) + ' ms' : v.toFixed(2) + ' s';
  if (unit === 'B') {
    const u = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (Math.abs(v) >= 1024 && i < u.length - 1) (v /= 1024), i++;
    return v.toFixed(v < 10 && i ? 1 : 0) + ' ' + u[i];
  }
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e4) return String(v);
  if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(1) + 'k';
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(1);
  if (a === 0) return '0';
  return v.toPrecision(2);
}
