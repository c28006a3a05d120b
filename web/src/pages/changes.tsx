// changes.tsx - "what changed?": for a window W and the window of the same
// length just before it, deploys and releases, Sentry issues new or
// regressed, alerts that started, log templates new or spiking, and the
// series whose distribution moved most - each with the reason it is listed.
import { api, events, PaneEvent, qs } from '../api';
import { alerts, deploysOf, FAILED } from '../data';
import { href, Route } from '../route';
import { ago, clock, dateTime, fmtNum, rangeOf } from '../time';
import { CopyLink, Empty, ErrorBox, Section, Status, useData } from '../ui';

interface Template {
  template: string;
  count: number;
  before: number;
  score: number;
  example: string;
  severity: string;
}
interface Moved {
  labels: Record<string, string>;
  median: number;
  median_before: number;
  score: number;
}

export function Changes({ route }: { route: Route }) {
  const r = rangeOf(route.params);
  const service = route.params.get('service') || '';
  const len = r.to - r.from;
  const prev = r.from - len;
  const sel = service ? `{service="${service.replace(/"/g, '\\"')}"}` : undefined;
  const ev = useData(() => events({ start: r.from / 1000, end: r.to / 1000, limit: 1000, selector: sel }), [r.from, r.to, service]);
  const al = useData(() => alerts(), []);
  const ch = useData(
    () => api<any>('/api/v1/console/changes?' + qs({ start: r.from / 1000, end: r.to / 1000, service })).then((x) => x.data as { templates: Template[]; series: Moved[]; lines: number; lines_before: number }),
    [r.from, r.to, service],
  );

  const evs = ev.data || [];
  // deploys that started in the window first, newest first; then those the
  // window only saw end (replaced by a newer one: Render deactivates the old)
  const deps = deploysOf(evs.filter((e) => e.kind === 'deploy')).sort((a, b) => Number(a.first === 'deactivated') - Number(b.first === 'deactivated'));
  const releases = evs.filter((e) => e.kind === 'release');
  const others = evs.filter((e) => !['deploy', 'release', 'issue'].includes(e.kind));
  const issues = new Map<string, PaneEvent>();
  for (const e of evs.filter((e) => e.kind === 'issue')) {
    const b = e.body || {};
    const first = b.firstSeen ? Date.parse(b.firstSeen) : NaN;
    const isNew = first >= r.from && first <= r.to;
    const regressed = /regress/.test(e.labels.substatus || '') || /regress/.test(e.title);
    if ((isNew || regressed) && !issues.has(e.labels.issue_id || e.title)) issues.set(e.labels.issue_id || e.title, e);
  }
  const started = (al.data || []).filter((a) => a.activeAt && Date.parse(a.activeAt) >= r.from && Date.parse(a.activeAt) <= r.to);

  return (
    <div class="page changes">
      <div class="pagehead">
        <h1>What changed{service ? ' · ' + service : ''}</h1>
        <span class="grow" />
        <CopyLink />
      </div>
      <p class="muted">
        Window {dateTime(r.from)} – {clock(r.to)} compared with the {ago(r.from, r.to)} before it ({clock(prev)} – {clock(r.from)}). Drag over any chart to pick a
        window; {service ? <a href={href('changes', '', { service: undefined })}>all services</a> : 'choose a service on its page to narrow this'}.
      </p>
      <Section title="1 · Deploys and releases">
        <ErrorBox error={ev.error} />
        {!deps.length && !releases.length && !others.length && !ev.loading && <Empty>No deploys, releases or service events in this window.</Empty>}
        <ul class="changes-list">
          {deps.map((d) => (
            <li>
              <Status level={FAILED.test(d.status) ? 'bad' : 'info'}>deploy</Status> <b>{d.service}</b> <code>{d.commit}</code> {d.status} at {clock(d.ts)}{' '}
              <span class="why">new in this window</span> <span class="muted">{d.message}</span>
            </li>
          ))}
          {releases.map((e) => (
            <li>
              <Status level="info">release</Status> {e.title} at {clock(e.ts)} <span class="why">new in this window</span>
            </li>
          ))}
          {others.slice(0, 20).map((e) => (
            <li>
              <Status level="none">{e.kind}</Status> {e.title} at {clock(e.ts)}
            </li>
          ))}
        </ul>
      </Section>
      <Section title="2 · Sentry issues new or regressed">
        {issues.size === 0 && !ev.loading && <Empty>No Sentry issue was first seen or regressed in this window.</Empty>}
        <ul class="changes-list">
          {[...issues.values()].map((e) => (
            <li>
              <Status level={e.labels.level === 'fatal' ? 'bad' : 'warn'}>{e.labels.level || 'issue'}</Status>{' '}
              {e.url ? (
                <a href={e.url} target="_blank" rel="noreferrer noopener">
                  {e.body?.title || e.title}
                </a>
              ) : (
                e.body?.title || e.title
              )}{' '}
              <span class="muted">{e.labels.project}</span> <span class="why">{/regress/.test(e.labels.substatus || '') ? 'regressed in this window' : 'first seen in this window'}</span>
            </li>
          ))}
        </ul>
      </Section>
      <Section title="3 · Alerts that started">
        {al.data === undefined && !al.loading && <Empty>Alert rules are not configured (the rules: section of pane.yaml).</Empty>}
        {al.data && !started.length && <Empty>No alert started in this window.</Empty>}
        <ul class="changes-list">
          {started.map((a) => (
            <li>
              <Status level={a.state === 'firing' ? 'bad' : 'warn'}>{a.state}</Status> {a.labels.alertname} {a.labels.service || ''} <span class="why">started {clock(Date.parse(a.activeAt!))}</span>
            </li>
          ))}
        </ul>
      </Section>
      <Section title="4 · Log patterns new or spiking" right={ch.data && <span class="muted">{fmtNum(ch.data.lines)} lines vs {fmtNum(ch.data.lines_before)} before · numbers, ids and quoted strings masked</span>}>
        <ErrorBox error={ch.error} />
        {ch.data && !ch.data.templates.length && <Empty>No log pattern is new or rose in this window.</Empty>}
        {ch.data && ch.data.templates.length > 0 && (
          <table class="grid templates">
            <tbody>
              {ch.data.templates.map((t) => (
                <tr>
                  <td class="why nowrap">{t.before === 0 ? 'new in this window' : `×${fmtNum(t.score)} vs before`}</td>
                  <td class="r num">
                    {fmtNum(t.count)} <span class="muted">/ {fmtNum(t.before)}</span>
                  </td>
                  <td>
                    <code>{t.template}</code>
                    <div class="muted small clip">{t.example}</div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="5 · Series that moved most" right={<span class="muted">|median(W) − median(W′)| / (MAD(W′) + ε)</span>}>
        {ch.data && !ch.data.series.length && <Empty>No series{service ? ' of ' + service : ''} changed its level in this window.</Empty>}
        {ch.data && ch.data.series.length > 0 && (
          <table class="grid">
            <tbody>
              {ch.data.series.map((s) => {
                const { __name__, ...rest } = s.labels;
                const q = `${__name__}{${Object.entries(rest)
                  .map(([k, v]) => `${k}="${v}"`)
                  .join(',')}}`;
                return (
                  <tr>
                    <td class="why nowrap" title={`|median(W) − median(W′)| / (MAD(W′) + ε) = ${s.score}`}>
                      {/* a series flat before (MAD 0) scores in the millions: past 999 the number says nothing more */}
                      score {s.score > 999 ? '>999' : fmtNum(s.score)}
                    </td>
                    <td>
                      <a href={href('explore', '', { q, from: String(prev), to: String(r.to) }, false)}>
                        <code>{q}</code>
                      </a>
                    </td>
                    <td class="r num">
                      {fmtNum(s.median_before)} → {fmtNum(s.median)}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Section>
    </div>
  );
}
