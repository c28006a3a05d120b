// logs.tsx - label filters and text search, a histogram of lines by
// severity over time, live tail by polling, the lines around a hit; the
// list is virtualised so 100,000 lines scroll smoothly.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, LogLine, logs } from '../api';
import { LogRow } from '../logline';
import { Route, setParams } from '../route';
import { clock, rangeOf } from '../time';
import { CopyLink, Empty, ErrorBox } from '../ui';
import { VList } from '../vlist';

const SEVS = ['', 'debug', 'info', 'warn', 'error', 'fatal'];
const SEVCOL: Record<string, string> = { fatal: 'var(--bad)', error: 'var(--bad)', warn: 'var(--warn)', info: 'var(--info)', debug: 'var(--muted)' };
const BUCKETS = 60;

function Histogram({ lines, from, to, onPick }: { lines: LogLine[]; from: number; to: number; onPick: (ts: number) => void }) {
  const { bars, max } = useMemo(() => {
    const bars: Record<string, number>[] = Array.from({ length: BUCKETS }, () => ({}));
    let max = 0;
    const w = (to - from) / BUCKETS;
    for (const l of lines) {
      const i = Math.floor((l.ts - from) / w);
      if (i < 0 || i >= BUCKETS) continue;
      const s = l.severity === 'warning' ? 'warn' : l.severity;
      bars[i][s] = (bars[i][s] || 0) + 1;
    }
    for (const b of bars) max = Math.max(max, Object.values(b).reduce((a, c) => a + c, 0));
    return { bars, max };
  }, [lines, from, to]);
  return (
    <div class="hist" role="img" aria-label="log lines by severity over time">
      {bars.map((b, i) => {
        const t = from + ((to - from) * (i + 0.5)) / BUCKETS;
        return (
          <div class="hbar" title={clock(t) + ': ' + Object.entries(b).map(([k, v]) => `${v} ${k}`).join(', ')} onClick={() => onPick(t)}>
            {['fatal', 'error', 'warn', 'info', 'debug'].map((s) =>
              b[s] ? <div class={'hseg ' + s} style={{ height: (b[s] / Math.max(1, max)) * 100 + '%', background: SEVCOL[s] }} /> : null,
            )}
          </div>
        );
      })}
    </div>
  );
}

export function Logs({ route }: { route: Route }) {
  const r = rangeOf(route.params);
  const sel = route.params.get('sel') || '';
  const search = route.params.get('search') || '';
  const sev = route.params.get('sev') || '';
  const live = route.params.get('live') === '1';
  const [lines, setLines] = useState<LogLine[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | undefined>();
  const [loading, setLoading] = useState(true);
  const [hot, setHot] = useState<number | null>(null);
  const [around, setAround] = useState<{ hit: LogLine; lines: LogLine[] } | null>(null);
  const [selText, setSelText] = useState(sel);
  const [searchText, setSearchText] = useState(search);
  const busy = useRef(false);
  const base = { selector: sel, search, severity: sev, limit: 1000 };

  useEffect(() => {
    setSelText(sel);
    setSearchText(search);
    let alive = true;
    setLoading(true);
    logs({ ...base, start: r.from / 1000, end: r.to / 1000 }).then(
      (d) => {
        if (!alive) return;
        setLines(d.logs);
        setNext(d.next);
        setError(undefined);
        setLoading(false);
      },
      (e) => alive && (setError(e), setLoading(false)),
    );
    return () => {
      alive = false;
    };
  }, [sel, search, sev, r.from, r.to]);

  // live tail: ask for what is newer than the newest line every 2 s
  useEffect(() => {
    if (!live) return;
    const id = setInterval(() => {
      if (busy.current || document.hidden) return;
      busy.current = true;
      setLines((cur) => {
        const newest = cur.length ? cur[0].ts : r.from;
        logs({ ...base, start: (newest + 1) / 1000, end: Date.now() / 1000 + 5 }).then(
          (d) => {
            busy.current = false;
            if (d.logs.length) setLines((c) => [...d.logs, ...c]);
          },
          () => (busy.current = false),
        );
        return cur;
      });
    }, 2000);
    return () => clearInterval(id);
  }, [live, sel, search, sev]);

  const more = () => {
    if (!next || busy.current) return;
    busy.current = true;
    logs({ ...base, start: r.from / 1000, end: r.to / 1000, cursor: next }).then(
      (d) => {
        busy.current = false;
        setLines((c) => [...c, ...d.logs]);
        setNext(d.next);
      },
      () => (busy.current = false),
    );
  };

  const showAround = (l: LogLine) => {
    const { service, environment, source } = l.labels;
    const s = Object.entries({ service, environment, source })
      .filter(([, v]) => v)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',');
    logs({ selector: s ? '{' + s + '}' : '', start: (l.ts - 60e3) / 1000, end: (l.ts + 60e3) / 1000, limit: 200 }).then(
      (d) => setAround({ hit: l, lines: d.logs }),
      (e) => setError(e),
    );
  };

  return (
    <div class="page logs">
      <div class="pagehead">
        <h1>Logs</h1>
        <span class="grow" />
        <CopyLink />
      </div>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setParams({ sel: selText.trim(), search: searchText.trim() });
        }}
      >
        <input aria-label="label filter" placeholder='labels, e.g. {service="api"}' value={selText} onInput={(e) => setSelText((e.target as HTMLInputElement).value)} />
        <input data-search aria-label="text search" placeholder="text the line contains  (/)" value={searchText} onInput={(e) => setSearchText((e.target as HTMLInputElement).value)} />
        <select aria-label="least severity" value={sev} onChange={(e) => setParams({ sev: (e.target as HTMLSelectElement).value })}>
          {SEVS.map((s) => (
            <option value={s}>{s ? s + ' and worse' : 'any severity'}</option>
          ))}
        </select>
        <button class="btn primary" type="submit">
          Search
        </button>
        <label class="check">
          <input type="checkbox" checked={live} onChange={(e) => setParams({ live: (e.target as HTMLInputElement).checked ? '1' : undefined }, true)} /> live tail
        </label>
      </form>
      <ErrorBox error={error} what="logs" />
      <Histogram lines={lines} from={r.from} to={r.to} onPick={(t) => setHot(Math.max(0, lines.findIndex((l) => l.ts <= t)))} />
      <div class="muted small">
        {loading ? 'loading…' : `${lines.length.toLocaleString()} lines loaded${next ? ' (scroll for more)' : ''}`} · histogram of the loaded lines · click a line for the lines around it
        {live && <span class="live"> ● live</span>}
      </div>
      <div class="split logsplit">
        {lines.length ? (
          <VList items={lines} rowHeight={22} height="calc(100vh - 300px)" scrollToIndex={hot} onEnd={more} label="log lines" row={(l, i) => <LogRow l={l} hot={i === hot || l === around?.hit} onClick={() => showAround(l)} />} />
        ) : (
          !loading && <Empty>No log lines match in this range. Widen the range, drop a filter, or check that a source sends logs (docs/sources.md).</Empty>
        )}
        {around && (
          <aside class="around">
            <div class="sidehead">
              <b>Around {clock(around.hit.ts)}</b> <span class="muted">±1 min, same service and source</span>
              <span class="grow" />
              <button class="btn ghost" onClick={() => setAround(null)} aria-label="close">
                ✕
              </button>
            </div>
            {around.lines.map((l) => (
              <LogRow l={l} hot={l.ts === around.hit.ts && l.message === around.hit.message} />
            ))}
          </aside>
        )}
      </div>
    </div>
  );
}
