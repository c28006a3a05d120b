// unlabelled.tsx - Explore's "unlabelled" filter: the series of the range
// that lack one of the standard labels (provider, service, environment),
// counted per metric name and label, and the series themselves, saying which
// labels each lacks. A series without them is in no service's row of the
// Overview, on no service page and in no alert grouped by service.
//
// Only pane's public API: per label L one instant query at the end of the
// range, count by (__name__) (last_over_time({__name__=~".+", L=""}[range]))
// (a matcher L="" selects the series without L), and one /api/v1/series with
// the three selectors as match[] and a limit one above what is shown, so the
// page knows when the list is cut. The counts are bounded by pane's own
// query limits; an answer over them is shown as the error it is.
import { api, instantQuery, qs } from '../api';
import { href, Route, setParams } from '../route';
import { clock, dateTime, fmtNum, rangeOf } from '../time';
import { CopyLink, Empty, ErrorBox, Section, useData } from '../ui';
import { ExploreTabs } from './explore';

export const STANDARD = ['provider', 'service', 'environment'] as const;
export const MAX_NAMES = 100; // metric names in the table
export const MAX_SERIES = 200; // series in the list

// The standard labels a series lacks (missing or empty).
export function lacks(labels: Record<string, string>): string[] {
  return STANDARD.filter((l) => !labels[l]);
}

// A PromQL selector of exactly this series, for a link to Explore.
function selectorOf(m: Record<string, string>) {
  const { __name__, ...rest } = m;
  const q = (s: string) => JSON.stringify(s);
  return (__name__ || '') + '{' + Object.entries(rest).map(([k, v]) => `${k}=${q(v)}`).join(', ') + '}';
}

interface Row {
  name: string;
  n: Record<string, number>; // label -> series of this name lacking it
}

export function Unlabelled({ route }: { route: Route }) {
  const r = rangeOf(route.params);
  const metric = route.params.get('metric') || '';
  // the metric filter is a regular expression (anchored, as in PromQL)
  const nameMatch = metric ? `__name__=~${JSON.stringify(metric)}` : '__name__=~".+"';
  const secs = Math.max(1, Math.ceil((r.to - r.from) / 1000));
  const counts = useData(
    () =>
      Promise.all(
        STANDARD.map((l) => instantQuery(`count by (__name__) (last_over_time({${nameMatch}, ${l}=""}[${secs}s]))`, r.to)),
      ),
    [nameMatch, secs, r.to],
  );
  const series = useData(
    () =>
      api<{ data: Record<string, string>[] }>(
        '/api/v1/series?' +
          STANDARD.map((l) => qs({ 'match[]': `{${nameMatch}, ${l}=""}` })).join('&') +
          '&' +
          qs({ start: r.from / 1000, end: r.to / 1000, limit: MAX_SERIES + 1 }),
      ).then((x) => x.data),
    [nameMatch, r.from, r.to],
  );

  const byName = new Map<string, Row>();
  STANDARD.forEach((l, i) => {
    for (const s of counts.data?.[i] || []) {
      const name = s.metric.__name__ || '';
      if (!byName.has(name)) byName.set(name, { name, n: { provider: 0, service: 0, environment: 0 } });
      byName.get(name)!.n[l] = Number(s.value[1]);
    }
  });
  // most series lacking a label first, then by name
  const rows = [...byName.values()].sort((a, b) => Math.max(...Object.values(b.n)) - Math.max(...Object.values(a.n)) || a.name.localeCompare(b.name));
  const total: Record<string, number> = {};
  for (const l of STANDARD) total[l] = rows.reduce((s, x) => s + x.n[l], 0);
  const list = series.data || [];
  const cut = list.length > MAX_SERIES;
  const none = counts.data !== undefined && rows.length === 0;
  const of = metric ? <> of <code>{metric}</code></> : null;

  return (
    <div class="page explore unlabelled">
      <div class="pagehead">
        <h1>Explore</h1>
        <ExploreTabs on="unlabelled" />
        <span class="grow" />
        <CopyLink />
      </div>
      <p class="muted">
        Series{of} seen from {dateTime(r.from)} to {clock(r.to)} that lack one of the standard labels <code>provider</code>, <code>service</code>,{' '}
        <code>environment</code>. The Overview, the service pages and “what changed” group by them, so such a series is in none of them: add the labels
        at the source (its <code>labels:</code> in pane.yaml, or the sender’s own).
      </p>
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          const v = ((e.currentTarget as HTMLFormElement).elements.namedItem('metric') as HTMLInputElement).value.trim();
          setParams({ metric: v || undefined });
        }}
      >
        <input name="metric" class="wide" data-search aria-label="metric name (regular expression)" placeholder="metric name or regex, e.g. pane_.*" value={metric} key={metric} />
        <button class="btn" type="submit">
          Filter
        </button>
        {metric && (
          <a class="btn ghost" href={href('explore', '', { filter: 'unlabelled' })}>
            all metrics
          </a>
        )}
      </form>
      <ErrorBox error={counts.error} what="counting the series without the standard labels" />
      {counts.data === undefined && counts.loading && <div class="muted">loading…</div>}
      {none && (
        <div class="msg quiet" data-testid="all-labelled">
          ✓ Every series{of} in this range carries provider, service and environment.
        </div>
      )}
      {rows.length > 0 && (
        <div class="msg warn" data-testid="unlabelled-summary">
          ▲ {rows.length === 1 ? '1 metric name has' : `${fmtNum(rows.length)} metric names have`} series without a standard
          label: {STANDARD.map((l, i) => (
            <span>
              {i ? ' · ' : ''}
              {fmtNum(total[l])} series lack <code>{l}</code>
            </span>
          ))}
          .
        </div>
      )}
      {rows.length > 0 && (
        <Section
          title="By metric name"
          right={<span class="muted">{rows.length > MAX_NAMES ? `the first ${MAX_NAMES} of ${fmtNum(rows.length)} names, most series first — narrow with the filter` : 'series lacking each label · click a name for its series'}</span>}
        >
          <table class="grid unlabelled-names">
            <thead>
              <tr>
                <th>metric name</th>
                {STANDARD.map((l) => (
                  <th class="r">
                    lacks <code>{l}</code>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.slice(0, MAX_NAMES).map((x) => (
                <tr data-metric={x.name} class={metric === x.name ? 'on' : ''}>
                  <td>
                    <a href={href('explore', '', { filter: 'unlabelled', metric: x.name })} title="this metric's series">
                      <code>{x.name}</code>
                    </a>
                  </td>
                  {STANDARD.map((l) => (
                    <td class="r num" data-lacks={l} data-n={x.n[l]}>
                      {x.n[l] ? (
                        <a href={href('explore', '', { q: `${x.name}{${l}=""}` })} title={`query the ${x.n[l]} series of ${x.name} without ${l}`}>
                          {fmtNum(x.n[l])}
                        </a>
                      ) : (
                        <span class="muted" aria-label="none">
                          —
                        </span>
                      )}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}
      {!none && (
        <Section
          title={<>Series{of}</>}
          right={
            <span class="muted" data-testid="series-note">
              {cut ? `the first ${MAX_SERIES} (sorted) — there are more; narrow with the filter` : list.length ? `${list.length} series` : ''}
            </span>
          }
        >
          <ErrorBox error={series.error} what="listing the series" />
          {series.data === undefined && series.loading && <div class="muted">loading…</div>}
          {series.data && !list.length && <Empty>No series{of} lacks a standard label in this range.</Empty>}
          {list.length > 0 && (
            <table class="grid unlabelled-series">
              <thead>
                <tr>
                  <th>series</th>
                  <th>lacks</th>
                </tr>
              </thead>
              <tbody>
                {list.slice(0, MAX_SERIES).map((m) => (
                  <tr data-lacks={lacks(m).join(',')}>
                    <td>
                      <a href={href('explore', '', { q: selectorOf(m) })}>
                        <code>{selectorOf(m)}</code>
                      </a>
                    </td>
                    <td class="nowrap">
                      {lacks(m).map((l) => (
                        <span class="tag">{l}</span>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
      )}
    </div>
  );
}
