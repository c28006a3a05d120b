// explore.tsx - PromQL with completion of metric names, label names and
// values; a chart and a table; the error shown where it is.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, instantQuery, qs, rangeQuery } from '../api';
import { Chart } from '../chart';
import { deploys, markersOf } from '../data';
import { href, Route, setParams } from '../route';
import { fmtNum, rangeOf, stepFor } from '../time';
import { CopyLink, Empty, useData } from '../ui';

const cache = new Map<string, Promise<string[]>>();
function values(path: string): Promise<string[]> {
  if (!cache.has(path))
    cache.set(
      path,
      api<any>(path).then(
        (r) => r.data as string[],
        () => [],
      ),
    );
  return cache.get(path)!;
}

// What to complete at the caret: metric names, label names in {}, or a label's values after =.
export function context(text: string, caret: number): { kind: 'metric' | 'label' | 'value'; prefix: string; label?: string; metric?: string; start: number } {
  const before = text.slice(0, caret);
  const open = before.lastIndexOf('{'),
    close = before.lastIndexOf('}');
  if (open > close) {
    const inner = before.slice(open + 1);
    const mv = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)$/.exec(inner);
    const metric = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*$/.exec(before.slice(0, open))?.[1];
    if (mv) return { kind: 'value', prefix: mv[3], label: mv[1], metric, start: caret - mv[3].length };
    const ml = /([a-zA-Z_][a-zA-Z0-9_]*)?$/.exec(inner)!;
    return { kind: 'label', prefix: ml[1] || '', metric, start: caret - (ml[1] || '').length };
  }
  const m = /([a-zA-Z_:][a-zA-Z0-9_:]*)$/.exec(before);
  return { kind: 'metric', prefix: m ? m[1] : '', start: caret - (m ? m[1].length : 0) };
}

function seriesName(m: Record<string, string>) {
  const { __name__, ...rest } = m;
  return (__name__ || '') + '{' + Object.entries(rest).map(([k, v]) => `${k}="${v}"`).join(', ') + '}';
}

// Explore's two views: a PromQL query, or the filter "unlabelled" (the series
// lacking provider, service or environment: pages/unlabelled.tsx).
export function ExploreTabs({ on }: { on: 'query' | 'unlabelled' }) {
  return (
    <nav class="tabs" aria-label="explore views">
      <a class={'tab' + (on === 'query' ? ' on' : '')} aria-current={on === 'query' ? 'page' : undefined} href={href('explore')}>
        PromQL
      </a>
      <a class={'tab' + (on === 'unlabelled' ? ' on' : '')} aria-current={on === 'unlabelled' ? 'page' : undefined} href={href('explore', '', { filter: 'unlabelled' })} title="g u">
        Unlabelled series
      </a>
    </nav>
  );
}

export function Explore({ route }: { route: Route }) {
  const r = rangeOf(route.params);
  const q = route.params.get('q') || '';
  const [text, setText] = useState(q);
  const [caret, setCaret] = useState(0);
  const [sugg, setSugg] = useState<string[]>([]);
  const [pick, setPick] = useState(0);
  const ta = useRef<HTMLTextAreaElement>(null);
  useEffect(() => setText(q), [q]);
  const step = stepFor(r, 900);
  const res = useData(() => (q ? rangeQuery(q, r.from, r.to, step) : Promise.resolve(null)), [q, r.from, r.to, step]);
  const inst = useData(() => (q ? instantQuery(q, r.to) : Promise.resolve([])), [q, r.to]);
  const dep = useData(() => deploys(r.from, r.to), [r.from, r.to]);
  const markers = useMemo(() => markersOf(dep.data || []), [dep.data]);

  useEffect(() => {
    let live = true;
    const c = context(text, caret);
    let p: Promise<string[]>;
    if (c.kind === 'metric') p = c.prefix.length ? values('/api/v1/label/__name__/values') : Promise.resolve([]);
    else if (c.kind === 'label') p = values('/api/v1/labels' + (c.metric ? '?' + qs({ 'match[]': c.metric }) : ''));
    else p = values('/api/v1/label/' + encodeURIComponent(c.label!) + '/values' + (c.metric ? '?' + qs({ 'match[]': c.metric }) : ''));
    p.then((all) => {
      if (!live) return;
      const lc = c.prefix.toLowerCase();
      const out = all.filter((v) => v.toLowerCase().startsWith(lc) && v !== c.prefix).slice(0, 12);
      setSugg(document.activeElement === ta.current ? out : []);
      setPick(0);
    });
    return () => {
      live = false;
    };
  }, [text, caret]);

  const accept = (v: string) => {
    const c = context(text, caret);
    const t = text.slice(0, c.start) + v + text.slice(caret);
    const pos = c.start + v.length;
    // value and caret now, not in a later frame: a key typed right after Tab
    // would otherwise land at the end and the late caret move put the next
    // ones before it ("cores{serv" became "coresserv{"); the render that
    // follows finds the same value and leaves the caret alone
    const el = ta.current;
    if (el) {
      el.value = t;
      el.setSelectionRange(pos, pos);
    }
    setText(t);
    setSugg([]);
    setCaret(pos);
  };
  const run = () => {
    setSugg([]);
    setParams({ q: text.trim() });
  };
  const err = res.error || inst.error;
  const pos = err ? /^(\d+):(\d+):/.exec(err.message) : null;

  return (
    <div class="page explore">
      <div class="pagehead">
        <h1>Explore</h1>
        <ExploreTabs on="query" />
        <span class="grow" />
        <CopyLink />
      </div>
      <div class="editor">
        <textarea
          ref={ta}
          data-search
          aria-label="PromQL query"
          aria-autocomplete="list"
          spellcheck={false}
          rows={2}
          placeholder='PromQL, e.g. sum by (service) (render_http_requests)   · Ctrl+Enter runs · Tab completes'
          value={text}
          onInput={(e) => {
            const t = e.target as HTMLTextAreaElement;
            // suggestions belong to the text they were fetched for: drop them
            // now, so an Enter before the new ones arrive runs the query
            // instead of accepting a stale suggestion
            setSugg([]);
            setText(t.value);
            setCaret(t.selectionStart);
          }}
          onClick={(e) => setCaret((e.target as HTMLTextAreaElement).selectionStart)}
          onBlur={() => setTimeout(() => setSugg([]), 150)}
          onKeyDown={(e) => {
            if (sugg.length && (e.key === 'Tab' || (e.key === 'Enter' && !e.ctrlKey))) {
              e.preventDefault();
              accept(sugg[pick]);
            } else if (sugg.length && e.key === 'ArrowDown') {
              e.preventDefault();
              setPick((pick + 1) % sugg.length);
            } else if (sugg.length && e.key === 'ArrowUp') {
              e.preventDefault();
              setPick((pick + sugg.length - 1) % sugg.length);
            } else if (e.key === 'Escape') setSugg([]);
            else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey || !e.shiftKey)) {
              e.preventDefault();
              run();
            }
          }}
          onKeyUp={(e) => {
            if (!['ArrowDown', 'ArrowUp', 'Enter', 'Tab'].includes(e.key)) setCaret((e.target as HTMLTextAreaElement).selectionStart);
          }}
        />
        <button class="btn primary" onClick={run}>
          Run
        </button>
        {sugg.length > 0 && (
          <ul class="suggest" role="listbox">
            {sugg.map((s, i) => (
              <li role="option" aria-selected={i === pick} class={i === pick ? 'on' : ''} onMouseDown={(e) => (e.preventDefault(), accept(s))}>
                {s}
              </li>
            ))}
          </ul>
        )}
      </div>
      {err && (
        <div class="msg bad queryerr" role="alert">
          ✗ {err.code ? err.code + ': ' : ''}
          {err.message}
          {pos && (
            <pre class="caret">
              {q.split('\n')[Number(pos[1]) - 1]}
              {'\n' + ' '.repeat(Math.max(0, Number(pos[2]) - 1)) + '^'}
            </pre>
          )}
        </div>
      )}
      {!q && <Empty>Write a PromQL query above. Metric names, label names and values complete as you type.</Empty>}
      {q && res.data && <Chart series={res.data} from={r.from} to={r.to} step={step} markers={markers} height={300} onSelect={(a, b) => setParams({ from: String(a), to: String(b) })} />}
      {q && res.data && (
        <div class="muted small">
          {res.data.length} series · step {step / 1000}s · drag over the chart to zoom
        </div>
      )}
      {q && inst.data && inst.data.length > 0 && (
        <table class="grid">
          <thead>
            <tr>
              <th>series</th>
              <th class="r">value at the end of the range</th>
            </tr>
          </thead>
          <tbody>
            {inst.data.slice(0, 500).map((s) => (
              <tr>
                <td>
                  <code>{seriesName(s.metric)}</code>
                </td>
                <td class="r num">{fmtNum(parseFloat(s.value[1]))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export type { ApiError };
