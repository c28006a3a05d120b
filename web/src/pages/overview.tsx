// overview.tsx - "is everything OK?": firing alerts and sources that are
// down first, then a row per service in words and numbers, with sparklines
// that carry deploy markers; Sentry issues, queues and Supabase health below.
import { api, ApiError, events, PaneEvent, Series } from '../api';
import { align, Sparkline, PALETTE } from '../chart';
import { alerts, deployedIn, deploys, Deploy, FAILED, key, last, overview, Panel } from '../data';
import { href, Route } from '../route';
import { ago, fmtNum, rangeOf, stepFor } from '../time';
import { Empty, ErrorBox, Section, Status, useData, CopyLink } from '../ui';

// one row per service and environment, whichever providers its series come
// from (Render's metrics, the app's own, ...): each number is taken from the
// first of them that has it
interface Row {
  providers: string[];
  service: string;
  environment: string;
  ks: string[]; // the (provider, service, environment) keys of the panels' series
}
const pick = (m: Map<string, Series>, row: Row) => row.ks.map((k) => m.get(k)).find((x) => x);

function byKey(p: Panel | undefined): Map<string, Series> {
  const m = new Map<string, Series>();
  for (const s of p?.result || []) m.set(key(s.metric), s);
  return m;
}

function Spark({ s, from, to, step, unit, markers, color }: { s?: Series; from: number; to: number; step: number; unit?: string; markers?: number[]; color?: string }) {
  if (!s) return <span class="muted">—</span>;
  const ys = align([s], from, to, step)[1] as (number | null)[];
  return (
    <span class="sparkcell">
      <Sparkline values={ys} markers={markers} from={from} to={to} color={color} />
      <span class="num">{fmtNum(last(s), unit)}</span>
    </span>
  );
}

export function Overview({ route }: { route: Route }) {
  const r = rangeOf(route.params);
  const step = stepFor(r, 90);
  const ov = useData(() => overview(r.from, r.to, step), [r.from, r.to, step]);
  const dep = useData(() => deploys(r.from, r.to), [r.from, r.to]);
  const al = useData(() => alerts(), []);
  const iss = useData(() => events({ kind: 'issue', start: r.from / 1000, end: r.to / 1000, limit: 200 }), [r.from, r.to]);
  const qs = useData(() => api<any>('/v1/queues'), []);

  const d = ov.data || {};
  const svcs = new Map<string, Row>();
  for (const s of d.services?.result || []) {
    const m = s.metric;
    if (!m.service || m.service === m.provider) continue; // the provider's own account-level series
    const rk = `${m.service}/${m.environment || ''}`;
    const row = svcs.get(rk) || { providers: [], service: m.service, environment: m.environment || '', ks: [] };
    if (m.provider && !row.providers.includes(m.provider)) row.providers.push(m.provider);
    row.ks.push(key(m));
    svcs.set(rk, row);
  }
  const req = byKey(d.requests),
    err = byKey(d.errors),
    p95 = byKey(d.p95),
    cpu = byKey(d.cpu),
    mem = byKey(d.mem);
  const lastDeploy = new Map<string, Deploy>();
  const deployTimes = new Map<string, number[]>();
  for (const x of (dep.data || []).filter(deployedIn)) {
    if (!lastDeploy.has(x.service)) lastDeploy.set(x.service, x);
    deployTimes.set(x.service, [...(deployTimes.get(x.service) || []), x.ts]);
  }
  const rows = [...svcs.values()]
    .map((row) => ({ ...row, providers: row.providers.sort() }))
    .sort((a, b) => a.service.localeCompare(b.service, undefined, { numeric: true }) || a.environment.localeCompare(b.environment));

  const firing = (al.data || []).filter((a) => a.state === 'firing');
  const pending = (al.data || []).filter((a) => a.state === 'pending');
  const down = (d.up?.result || []).filter((s) => last(s) === 0);

  return (
    <div class="page overview">
      <div class="pagehead">
        <h1>Overview</h1>
        <CopyLink />
      </div>
      <div class="banners" aria-live="polite">
        {al.data === undefined && !al.loading && !al.error && (
          <div class="msg quiet">
            <Status level="none">no alert rules configured</Status> — add a <code>rules:</code> section to pane.yaml (docs/console.md)
          </div>
        )}
        {firing.length > 0 && (
          <div class="msg bad">
            <Status level="bad">{firing.length} firing:</Status>{' '}
            {firing.slice(0, 5).map((a) => (
              <a href={href('alerts')} class="chip">
                {a.labels.alertname} {a.labels.service || ''} {a.activeAt ? ago(Date.parse(a.activeAt)) : ''}
              </a>
            ))}
          </div>
        )}
        {pending.length > 0 && (
          <div class="msg warn">
            <Status level="warn">{pending.length} pending</Status>
          </div>
        )}
        {down.map((s) => (
          <div class="msg warn">
            <Status level="warn">source down: {s.metric.source || s.metric.provider}</Status> — see <code>pane_source_up</code> and the serve log
          </div>
        ))}
        {al.data && !firing.length && !pending.length && !down.length && (
          <div class="msg quiet">
            <Status level="ok">no alerts firing, every source up</Status>
          </div>
        )}
        <ErrorBox error={ov.error} what="overview" />
      </div>

      <Section title="Services" right={<span class="muted">{rows.length} services · deploy markers in blue</span>}>
        {rows.length === 0 && !ov.loading ? (
          <Empty>
            No services in this range. Services come from the <code>service</code> label of metrics: configure a source in
            the <code>sources:</code> section of pane.yaml (Render, Supabase, Sentry) or push your own metrics with a{' '}
            <code>service</code> label (docs/sources.md).
          </Empty>
        ) : (
          <table class="grid services" data-ready={ov.data && dep.data && !ov.loading ? '1' : '0'}>
            <thead>
              <tr>
                <th>service</th>
                <th>last deploy</th>
                <th class="r">requests</th>
                <th class="r">errors</th>
                <th class="r">p95</th>
                <th class="r">cpu / limit</th>
                <th class="r">mem / limit</th>
              </tr>
            </thead>
            <tbody>
              {ov.loading && !rows.length && (
                <tr>
                  <td colSpan={7} class="muted">
                    loading…
                  </td>
                </tr>
              )}
              {rows.map((row) => {
                const dl = lastDeploy.get(row.service);
                const e = last(pick(err, row));
                const mk = deployTimes.get(row.service);
                const sp = { from: r.from, to: r.to, step, markers: mk };
                return (
                  <tr data-service={row.service}>
                    <td>
                      <a href={href('service', row.service, { env: row.environment })}>{row.service}</a> <span class="muted">{row.environment}</span>{' '}
                      {row.providers.map((p) => (
                        <span class="tag">{p}</span>
                      ))}
                    </td>
                    <td>
                      {dl ? (
                        <span title={dl.message}>
                          <Status level={FAILED.test(dl.status) ? 'bad' : /live|succeeded/.test(dl.status) ? 'ok' : 'info'}>
                            {ago(dl.ts)} ago
                          </Status>{' '}
                          <code>{dl.commit}</code> {FAILED.test(dl.status) || !/live/.test(dl.status) ? <span class="muted">{dl.status}</span> : null}
                        </span>
                      ) : (
                        <span class="muted">none in range</span>
                      )}
                    </td>
                    <td class="r">
                      <Spark s={pick(req, row)} {...sp} color={PALETTE[0]} />
                    </td>
                    <td class="r">
                      {e !== null && e > 0.01 ? (
                        <Status level={e > 0.05 ? 'bad' : 'warn'}>
                          <Spark s={pick(err, row)} {...sp} unit="%" color={PALETTE[5]} />
                        </Status>
                      ) : (
                        <Spark s={pick(err, row)} {...sp} unit="%" />
                      )}
                    </td>
                    <td class="r">
                      <Spark s={pick(p95, row)} {...sp} unit="s" />
                    </td>
                    <td class="r">
                      <Spark s={pick(cpu, row)} {...sp} unit="%" />
                    </td>
                    <td class="r">
                      <Spark s={pick(mem, row)} {...sp} unit="%" />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Section>

      <div class="cols">
        <Section title="Sentry issues in range">
          <Issues evs={iss.data} error={iss.error} />
        </Section>
        <Section title="Queues" right={<a href={href('queue')}>open queue →</a>}>
          <Queues q={qs.data} error={qs.error} depth={d.queue_depth} r={r} step={step} />
        </Section>
      </div>
      <Section title="Databases and Supabase">
        <Databases d={d} />
        <Supabase p={d.supabase} />
      </Section>
    </div>
  );
}

function Issues({ evs, error }: { evs?: PaneEvent[]; error?: ApiError }) {
  if (error) return <ErrorBox error={error} />;
  if (!evs) return <div class="muted">loading…</div>;
  const by = new Map<string, PaneEvent>();
  for (const e of evs) if (!by.has(e.labels.issue_id || e.title)) by.set(e.labels.issue_id || e.title, e);
  const list = [...by.values()].filter((e) => e.labels.status !== 'resolved');
  if (!list.length)
    return (
      <Empty>
        No unresolved Sentry issue changed in this range{evs.length ? '' : ' (no Sentry events at all: the sentry source is in the sources: section of pane.yaml)'}.
      </Empty>
    );
  return (
    <table class="grid">
      <tbody>
        {list.slice(0, 8).map((e) => {
          const b = e.body || {};
          return (
            <tr>
              <td>
                <Status level={e.labels.level === 'fatal' ? 'bad' : e.labels.level === 'error' ? 'warn' : 'info'}>{e.labels.level}</Status>
              </td>
              <td class="clip">
                {e.url ? <a href={e.url} rel="noreferrer noopener" target="_blank">{b.title || e.title}</a> : b.title || e.title}
              </td>
              <td class="muted">{e.labels.project}</td>
              <td class="r num">{b.count !== undefined ? fmtNum(Number(b.count)) + ' ev' : ''}</td>
              <td class="muted">{ago(e.ts)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Queues({ q, error, depth, r, step }: { q?: any; error?: ApiError; depth?: Panel; r: { from: number; to: number }; step: number }) {
  if (error)
    return (
      <Empty>
        {error.status === 404 ? 'The jobs API is off: pane serve has no PostgreSQL (set DATABASE_URL or database_url in pane.yaml).' : error.message}
      </Empty>
    );
  if (!q) return <div class="muted">loading…</div>;
  if (!q.queues.length) return <Empty>No queues yet: enqueue a job (POST /v1/queues/NAME/jobs, docs/queue.md).</Empty>;
  const dmap = new Map<string, Series>();
  for (const s of depth?.result || []) dmap.set(s.metric.queue, s);
  return (
    <table class="grid">
      <thead>
        <tr>
          <th>queue</th>
          <th class="r">depth</th>
          <th class="r">oldest</th>
          <th class="r">per s</th>
          <th class="r">failed</th>
        </tr>
      </thead>
      <tbody>
        {q.queues.map((x: any) => {
          const dep = (x.available || 0) + (x.scheduled || 0);
          const old = x.oldest_runnable_age_seconds || 0;
          return (
            <tr>
              <td>
                <a href={href('queue', '', { queue: x.queue })}>{x.queue}</a> {x.paused && <Status level="warn">paused</Status>}
              </td>
              <td class="r">
                <span class="sparkcell">
                  {dmap.get(x.queue) && <Sparkline values={align([dmap.get(x.queue)!], r.from, r.to, step)[1] as any} />}
                  <span class="num">{fmtNum(dep)}</span>
                </span>
              </td>
              <td class="r">{old > 300 ? <Status level="warn">{ago(Date.now() - old * 1000)}</Status> : <span class="num">{old ? ago(Date.now() - old * 1000) : '—'}</span>}</td>
              <td class="r num">{fmtNum(x.throughput_per_second)}</td>
              <td class="r">{x.failed ? <Status level="bad">{x.failed}</Status> : <span class="num muted">0</span>}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Supabase({ p }: { p?: Panel }) {
  const list = p?.result || [];
  if (!list.length)
    return <Empty>No Supabase health in this range: the supabase source goes in the sources: section of pane.yaml (docs/supabase.md); a postgres source adds the database itself.</Empty>;
  return (
    <div class="chips">
      {list.map((s) => {
        const v = last(s);
        return (
          <span class="chip">
            <Status level={v === 1 ? 'ok' : v === null ? 'none' : 'bad'}>
              {s.metric.component} {v === 1 ? 'healthy' : v === null ? 'no data' : 'unhealthy'}
            </Status>
          </span>
        );
      })}
    </div>
  );
}

function Databases({ d }: { d: Record<string, Panel> }) {
  const conns = byKey(d.db_connections),
    max = byKey(d.db_max_connections),
    size = byKey(d.db_size),
    longest = byKey(d.db_longest_query),
    load = byKey(d.load5);
  const keys = [...new Set([...conns.keys(), ...size.keys(), ...load.keys()])].sort();
  if (!keys.length) return null;
  return (
    <table class="grid dbs">
      <thead>
        <tr>
          <th>database</th>
          <th class="r">connections</th>
          <th class="r">size</th>
          <th class="r">longest running query</th>
          <th class="r">load (5 m)</th>
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => {
          const [provider, service, env] = k.split('/');
          const c = last(conns.get(k)),
            m = last(max.get(k)),
            q = last(longest.get(k));
          const ratio = c !== null && m ? c / m : null;
          return (
            <tr>
              <td>
                <a href={href('service', service, { env })}>{service}</a> <span class="muted">{env}</span> <span class="tag">{provider}</span>
              </td>
              <td class="r">
                {ratio !== null && ratio > 0.8 ? (
                  <Status level="warn">
                    {fmtNum(c)} / {fmtNum(m)}
                  </Status>
                ) : (
                  <span class="num">
                    {fmtNum(c)}
                    {m ? ' / ' + fmtNum(m) : ''}
                  </span>
                )}
              </td>
              <td class="r num">{fmtNum(last(size.get(k)), 'B')}</td>
              <td class="r">{q !== null && q > 60 ? <Status level="warn">{fmtNum(q, 's')}</Status> : <span class="num">{fmtNum(q, 's')}</span>}</td>
              <td class="r num">{fmtNum(last(load.get(k)))}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
