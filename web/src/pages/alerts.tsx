// alerts.tsx - firing and pending alerts grouped as they are notified,
// rules with their health and last error, silences (create one from an
// alert with its matchers filled in, expire one). Prometheus' /api/v1/rules
// and /api/v1/alerts, Alertmanager's /api/v2/alerts/groups and /api/v2/silences.
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { Route } from '../route';
import { ago, dateTime } from '../time';
import { CopyLink, Empty, ErrorBox, Section, Status, useData } from '../ui';

async function maybe<T>(path: string): Promise<T | undefined> {
  try {
    return await api<T>(path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return undefined;
    throw e;
  }
}

const lbl = (l: Record<string, string>) =>
  Object.entries(l)
    .filter(([k]) => k !== 'alertname')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

export function Alerts({ route }: { route: Route }) {
  const [bump, setBump] = useState(0);
  const [msg, setMsg] = useState<{ level: 'ok' | 'bad'; text: string } | null>(null);
  const [draft, setDraft] = useState<{ matchers: { name: string; value: string }[]; hours: number; comment: string } | null>(null);
  const rules = useData(() => maybe<any>('/api/v1/rules'), [bump]);
  const al = useData(() => maybe<any>('/api/v1/alerts'), [bump]);
  const groups = useData(() => maybe<any[]>('/api/v2/alerts/groups'), [bump]);
  const sil = useData(() => maybe<any[]>('/api/v2/silences'), [bump]);

  const alertsList: any[] = al.data?.data?.alerts || [];
  const byName = new Map<string, any[]>();
  for (const a of alertsList) byName.set(a.labels.alertname, [...(byName.get(a.labels.alertname) || []), a]);

  const create = async () => {
    if (!draft) return;
    const now = new Date();
    const body = {
      matchers: draft.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: false, isEqual: true })),
      startsAt: now.toISOString(),
      endsAt: new Date(now.getTime() + draft.hours * 3600e3).toISOString(),
      createdBy: 'pane console',
      comment: draft.comment || 'silenced from the console',
    };
    try {
      const r = await api<any>('/api/v2/silences', { method: 'POST', body: JSON.stringify(body) });
      setMsg({ level: 'ok', text: 'silence created' + (r && r.silenceID ? ' (' + r.silenceID + ')' : '') });
      setDraft(null);
    } catch (e) {
      setMsg({ level: 'bad', text: 'creating the silence failed: ' + (e as ApiError).message });
    }
    setBump((b) => b + 1);
  };
  const expire = async (id: string) => {
    try {
      await api('/api/v2/silence/' + encodeURIComponent(id), { method: 'DELETE' });
      setMsg({ level: 'ok', text: 'silence ' + id + ' expired' });
    } catch (e) {
      setMsg({ level: 'bad', text: 'expiring the silence failed: ' + (e as ApiError).message });
    }
    setBump((b) => b + 1);
  };

  return (
    <div class="page alerts">
      <div class="pagehead">
        <h1>Alerts</h1>
        <span class="grow" />
        <CopyLink />
      </div>
      {msg && (
        <div class={'msg ' + msg.level} role="status" data-testid="action-result">
          <Status level={msg.level}>{msg.text}</Status>
        </div>
      )}
      <Section title="Firing and pending">
        <ErrorBox error={al.error} />
        {al.data === undefined && !al.loading && !al.error && (
          <Empty>
            Alert rules are not configured: this pane answers 404 for /api/v1/alerts. Add a <code>rules:</code> section to pane.yaml (rule files in
            Prometheus' format; examples/rules/) and reload.
          </Empty>
        )}
        {al.data && !alertsList.length && (
          <div class="msg quiet">
            <Status level="ok">no rule is firing or pending</Status>
          </div>
        )}
        {groups.data && groups.data.length > 0 && (
          <div>
            <p class="muted small">
              Grouped as notified ({groups.data.length} notification group{groups.data.length > 1 ? 's' : ''}, Alertmanager's /api/v2/alerts/groups):
            </p>
            {groups.data.map((g: any) => (
              <div class="agroup" data-group>
                <h3>
                  <code>{lbl(g.labels || {}) || 'all'}</code> <span class="muted">→ {g.receiver?.name || 'receiver'} · {(g.alerts || []).length}</span>
                </h3>
                <table class="grid">
                  <tbody>
                    {(g.alerts || []).map((a: any) => (
                      <tr>
                        <td>
                          <Status level={a.status?.state === 'suppressed' ? 'none' : 'bad'}>{a.status?.state || 'active'}</Status>
                        </td>
                        <td>
                          <b>{a.labels?.alertname}</b> <code>{lbl(a.labels || {})}</code>
                          {a.annotations?.summary && <div class="muted">{a.annotations.summary}</div>}
                        </td>
                        <td class="muted">{a.startsAt ? 'since ' + ago(Date.parse(a.startsAt)) : ''}</td>
                        <td class="r">
                          <button
                            class="btn"
                            data-action="silence"
                            onClick={() => setDraft({ matchers: Object.entries(a.labels as Record<string, string>).map(([name, value]) => ({ name, value })), hours: 2, comment: '' })}
                          >
                            silence…
                          </button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ))}
            {byName.size > 0 && <p class="muted small">From the rules (/api/v1/alerts), pending ones included:</p>}
          </div>
        )}
        {[...byName.entries()].map(([name, list]) => (
          <div class="agroup">
            <h3>
              {name} <span class="muted">· {list.length}</span>
            </h3>
            <table class="grid">
              <tbody>
                {list.map((a) => (
                  <tr>
                    <td>
                      <Status level={a.state === 'firing' ? 'bad' : 'warn'}>{a.state}</Status>
                    </td>
                    <td>
                      <code>{lbl(a.labels)}</code>
                      {a.annotations?.summary && <div class="muted">{a.annotations.summary}</div>}
                    </td>
                    <td class="muted">{a.activeAt ? 'since ' + ago(Date.parse(a.activeAt)) : ''}</td>
                    <td class="r">
                      {sil.data !== undefined && (
                        <button
                          data-action="silence"
                          class="btn"
                          onClick={() =>
                            setDraft({ matchers: Object.entries(a.labels as Record<string, string>).map(([name, value]) => ({ name, value })), hours: 2, comment: '' })
                          }
                        >
                          silence…
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      </Section>
      {draft && (
        <Section title="New silence">
          <form
            class="silence"
            onSubmit={(e) => {
              e.preventDefault();
              create();
            }}
          >
            {draft.matchers.map((m, i) => (
              <div class="row">
                <code>{m.name}</code> ={' '}
                <input
                  aria-label={'matcher ' + m.name}
                  value={m.value}
                  onInput={(e) => setDraft({ ...draft, matchers: draft.matchers.map((x, j) => (j === i ? { ...x, value: (e.target as HTMLInputElement).value } : x)) })}
                />{' '}
                <button type="button" class="btn ghost" onClick={() => setDraft({ ...draft, matchers: draft.matchers.filter((_, j) => j !== i) })}>
                  remove
                </button>
              </div>
            ))}
            <div class="row">
              for{' '}
              <select aria-label="duration" value={draft.hours} onChange={(e) => setDraft({ ...draft, hours: Number((e.target as HTMLSelectElement).value) })}>
                {[1, 2, 4, 8, 24, 72].map((h) => (
                  <option value={h}>{h} h</option>
                ))}
              </select>{' '}
              <input aria-label="comment" placeholder="comment" value={draft.comment} onInput={(e) => setDraft({ ...draft, comment: (e.target as HTMLInputElement).value })} />{' '}
              <button class="btn primary" type="submit">
                Create silence
              </button>{' '}
              <button type="button" class="btn ghost" onClick={() => setDraft(null)}>
                cancel
              </button>
            </div>
          </form>
        </Section>
      )}
      <Section title="Rules">
        <ErrorBox error={rules.error} />
        {rules.data === undefined && !rules.loading && !rules.error && (
          <Empty>
            No rules: /api/v1/rules answers 404. The <code>rules:</code> section of pane.yaml names the rule files.
          </Empty>
        )}
        {rules.data && (rules.data.data?.groups || []).length === 0 && <Empty>The rules: section names no rule groups yet.</Empty>}
        {(rules.data?.data?.groups || []).map((g: any) => (
          <div class="agroup">
            <h3>
              {g.name} <span class="muted">{g.file} · every {g.interval}s</span>
            </h3>
            <table class="grid">
              <tbody>
                {g.rules.map((r: any) => (
                  <tr>
                    <td>
                      <Status level={r.health === 'ok' ? 'ok' : r.health === 'err' ? 'bad' : 'none'}>{r.health}</Status>
                    </td>
                    <td>
                      <b>{r.name}</b> <span class="muted">{r.type}</span>
                      {r.state && r.state !== 'inactive' && <Status level={r.state === 'firing' ? 'bad' : 'warn'}> {r.state}</Status>}
                      <div>
                        <code class="small">{r.query}</code>
                      </div>
                      {r.lastError && <div class="msg bad small">✗ {r.lastError}</div>}
                    </td>
                    <td class="muted small">{r.lastEvaluation && !r.lastEvaluation.startsWith('0001') ? 'evaluated ' + ago(Date.parse(r.lastEvaluation)) + ' ago' : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      </Section>
      <Section title="Silences">
        <ErrorBox error={sil.error} />
        {sil.data === undefined && !sil.loading && !sil.error && (
          <Empty>
            Notifications are not configured: /api/v2/silences answers 404. Add an <code>alerting:</code> section to pane.yaml (receivers and routes).
          </Empty>
        )}
        {sil.data && sil.data.length === 0 && <Empty>No silences.</Empty>}
        {sil.data && sil.data.length > 0 && (
          <table class="grid">
            <tbody>
              {sil.data.map((s: any) => (
                <tr data-silence={s.id}>
                  <td>
                    <Status level={s.status?.state === 'active' ? 'warn' : 'none'}>{s.status?.state}</Status>
                  </td>
                  <td>
                    <code>{(s.matchers || []).map((m: any) => `${m.name}${m.isEqual === false ? '!' : ''}${m.isRegex ? '=~' : '='}${m.value}`).join(' ')}</code>
                    <div class="muted small">
                      {s.comment} — {s.createdBy}
                    </div>
                  </td>
                  <td class="muted small">until {dateTime(Date.parse(s.endsAt))}</td>
                  <td class="r">
                    {s.status?.state !== 'expired' && (
                      <button class="btn" data-action="expire" onClick={() => expire(s.id)}>
                        expire
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </div>
  );
}
