// service.tsx - one service: its golden signals and resources with deploy
// markers and alert bands, the cursor shared by every chart and the logs
// beside them (hover a moment, the logs scroll to it), its Sentry issues and
// events timeline below. Drag over a chart to zoom or ask what changed.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { events, logs, rangeQuery, selector } from '../api';
import { Chart } from '../chart';
import { alerts, bandsOf, deploys, markersOf } from '../data';
import { LogRow } from '../logline';
import { href, Route, setParams } from '../route';
import { ago, clock, dateTime, rangeOf, stepFor } from '../time';
import { CopyLink, Empty, ErrorBox, Section, Status, useData } from '../ui';
import { VList } from '../vlist';

const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

export function Service({ name, route }: { name: string; route: Route }) {
  const r = rangeOf(route.params);
  const env = route.params.get('env') || '';
  const step = stepFor(r, 700);
  const sel = `service="${esc(name)}"${env ? `,environment="${esc(env)}"` : ''}`;
  const charts: [string, string, string, (m: Record<string, string>) => string][] = [
    ['Requests by status', `sum by (status_code) (render_http_requests{${sel}})`, '', (m) => m.status_code || 'all'],
    ['Error ratio (5xx)', `sum(render_http_requests{${sel},status_code=~"5.."}) / sum(render_http_requests{${sel}})`, '%', () => 'errors'],
    ['Latency', `max by (quantile) (render_http_latency_seconds{${sel}})`, 's', (m) => 'p' + Math.round(Number(m.quantile) * 100)],
    ['CPU against the limit', `sum by (__name__) ({__name__=~"render_cpu_usage_cores|render_cpu_limit_cores",${sel}})`, '', (m) => (m.__name__ || '').replace('render_cpu_', '').replace('_cores', '') + ' cores'],
    ['Memory against the limit', `sum by (__name__) ({__name__=~"render_memory_usage_bytes|render_memory_limit_bytes",${sel}})`, 'B', (m) => (m.__name__ || '').replace('render_memory_', '').replace('_bytes', '')],
  ];
  const data = useData(() => Promise.all(charts.map((c) => rangeQuery(c[1], r.from, r.to, step).catch(() => []))), [name, env, r.from, r.to, step]);
  const anyRender = (data.data || []).some((s) => s.length > 0);
  // a service without Render's signals: its own busiest metrics
  const own = useData(
    async () => {
      if (!data.data || anyRender) return [];
      const names = await rangeQuery(`topk(6, count by (__name__) ({${sel}}))`, r.to - 60e3, r.to, 60e3).catch(() => []);
      const ns = [...new Set(names.map((s) => s.metric.__name__))].slice(0, 6);
      return Promise.all(ns.map(async (n) => [n, await rangeQuery(`sum by (__name__) ({__name__="${esc(n)}",${sel}})`, r.from, r.to, step)] as const));
    },
    [data.data, name, env],
  );
  const dep = useData(() => deploys(r.from, r.to, name), [name, r.from, r.to]);
  const al = useData(() => alerts(), []);
  // the logs follow the cursor: when it moves past the lines loaded, the
  // 1,000 lines up to the cursor are loaded instead (debounced)
  const [anchor, setAnchor] = useState<number | null>(null);
  useEffect(() => setAnchor(null), [name, env, r.from, r.to]);
  const lg = useData(
    () => logs({ selector: selector({ service: name, environment: env || undefined }), start: r.from / 1000, end: (anchor ?? r.to) / 1000, limit: 1000 }),
    [name, env, r.from, r.to, anchor],
  );
  const ev = useData(() => events({ selector: selector({ service: name }), start: r.from / 1000, end: r.to / 1000, limit: 200 }), [name, r.from, r.to]);

  const [cursor, setCursor] = useState<number | null>(null);
  const [sel2, setSel] = useState<[number, number] | null>(null);
  const markers = useMemo(() => markersOf(dep.data || []), [dep.data]);
  const bands = useMemo(() => bandsOf(al.data, name, r.to), [al.data, name, r.to]);
  const lines = lg.data?.logs || [];
  useEffect(() => {
    if (cursor === null || !lg.data || lg.loading) return;
    const newest = lines.length ? lines[0].ts : r.to;
    const oldest = lines.length ? lines[lines.length - 1].ts : r.from;
    const full = lg.data.next !== null;
    const outside = (full && cursor < oldest - step) || (anchor !== null && cursor > newest + step);
    if (!outside) return;
    const id = setTimeout(() => setAnchor(Math.min(r.to, cursor + 30 * step)), 200);
    return () => clearTimeout(id);
  }, [cursor, lg.data, lg.loading]);
  // logs are newest first: the first line at or before the cursor
  const hotIndex = cursor === null || !lines.length ? null : ((i) => (i < 0 ? lines.length - 1 : i))(lines.findIndex((l) => l.ts <= cursor + step / 2));

  const chartProps = { from: r.from, to: r.to, step, markers, bands, sync: 'service', onHover: setCursor, onSelect: (a: number, b: number) => setSel([a, b]) };
  return (
    <div class="page service">
      <div class="pagehead">
        <h1>
          <a href={href('overview')} class="muted">
            Overview
          </a>{' '}
          / {name} {env && <span class="muted">{env}</span>}
        </h1>
        <span class="grow" />
        <a class="btn ghost" href={href('changes', '', { service: name })}>
          what changed?
        </a>
        <CopyLink />
      </div>
      {sel2 && (
        <div class="msg info selbar">
          Selected {clock(sel2[0])}–{clock(sel2[1])}:{' '}
          <button class="btn" onClick={() => (setParams({ from: String(sel2[0]), to: String(sel2[1]) }), setSel(null))}>
            zoom in
          </button>{' '}
          <a class="btn primary" href={href('changes', '', { service: name, from: String(sel2[0]), to: String(sel2[1]) }, false)}>
            what changed here?
          </a>{' '}
          <button class="btn ghost" onClick={() => setSel(null)}>
            ✕
          </button>
        </div>
      )}
      <div class="split">
        <div class="charts">
          <ErrorBox error={data.error} />
          {data.data &&
            anyRender &&
            charts.map((c, i) => <Chart title={c[0]} series={data.data![i]} unit={c[2]} legend={c[3]} {...chartProps} />)}
          {data.data && !anyRender && (own.data || []).map(([n, s]) => <Chart title={n} series={s} {...chartProps} />)}
          {data.data && !anyRender && own.data && !own.data.length && (
            <Empty>No metrics with service="{name}" in this range. Pick a longer range above, or check the source in pane.yaml.</Empty>
          )}
          {!data.data && <div class="chart skeleton">loading charts…</div>}
        </div>
        <aside class="sidelogs">
          <div class="sidehead">
            <b>Logs</b>{' '}
            <span class="muted">
              {lines.length >= 1000 ? (anchor ? '1,000 up to ' + clock(anchor) : 'newest 1,000') : lines.length} · follow the cursor
            </span>
            <span class="grow" />
            <a href={href('logs', '', { sel: selector({ service: name }) })}>all logs →</a>
          </div>
          <ErrorBox error={lg.error} />
          {lines.length ? (
            <VList items={lines} rowHeight={22} height="calc(100vh - 190px)" scrollToIndex={hotIndex} label="service logs" row={(l, i) => <LogRow l={l} hot={i === hotIndex} />} />
          ) : (
            !lg.loading && <Empty>No log lines for service="{name}" in this range.</Empty>
          )}
        </aside>
      </div>
      <Section title="Events" right={<span class="muted">deploys, issues, health changes</span>}>
        <ErrorBox error={ev.error} />
        {(ev.data || []).length === 0 && !ev.loading && <Empty>No events for this service in the range.</Empty>}
        <ol class="timeline">
          {(ev.data || []).slice(0, 40).map((e) => (
            <li>
              <span class="ts" title={dateTime(e.ts)}>
                {ago(e.ts)} ago
              </span>{' '}
              <Status level={e.kind === 'deploy' ? (/fail|cancel/.test(e.labels.status || '') ? 'bad' : 'info') : e.kind === 'issue' ? 'warn' : 'none'}>{e.kind}</Status>{' '}
              {e.url ? (
                <a href={e.url} target="_blank" rel="noreferrer noopener">
                  {e.title}
                </a>
              ) : (
                e.title
              )}
            </li>
          ))}
        </ol>
      </Section>
    </div>
  );
}
