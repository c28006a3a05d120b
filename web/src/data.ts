// data.ts - what several pages share: deploys as markers, alerts and their
// "not configured" state, the overview bundle.
import { api, ApiError, events, PaneEvent, qs, Series } from './api';
import { Marker, Band } from './chart';

export const FAILED = /fail|cancel|error/i;

export interface Deploy {
  id: string;
  service: string;
  environment: string;
  ts: number; // first event of the deploy (when it started)
  last: number;
  status: string;
  first: string; // the status of its first event in the window ('deactivated': it only ended there)
  commit: string;
  message: string;
  trigger: string;
  url: string | null;
}

// Render sends one event per status change of a deploy; one row per deploy.
export function deploysOf(evs: PaneEvent[]): Deploy[] {
  const by = new Map<string, Deploy>();
  for (const e of [...evs].sort((a, b) => a.ts - b.ts)) {
    const id = e.labels.deploy_id || e.title + e.ts;
    const b = e.body || {};
    let d = by.get(id);
    if (!d) {
      d = {
        id,
        service: e.labels.service || '',
        environment: e.labels.environment || '',
        ts: e.ts,
        last: e.ts,
        status: '',
        first: e.labels.status || b.status || '',
        commit: (e.labels.commit || b.commit_id || '').slice(0, 7),
        message: b.commit_message || '',
        trigger: b.trigger || '',
        url: e.url,
      };
      by.set(id, d);
    }
    d.last = e.ts;
    d.status = e.labels.status || b.status || d.status;
  }
  return [...by.values()].sort((a, b) => b.ts - a.ts);
}

// a deploy that only ended in the window (first === 'deactivated') is no
// deploy there: the newer one that replaced it has its own marker
export const deployedIn = (d: Deploy) => d.first !== 'deactivated';

export function markersOf(ds: Deploy[]): Marker[] {
  return ds.filter(deployedIn).map((d) => ({
    id: d.id,
    ts: d.ts,
    failed: FAILED.test(d.status),
    label: `deploy ${d.service} ${d.commit} ${d.status}${d.trigger ? ' (' + d.trigger + ')' : ''}${d.message ? ': ' + d.message : ''}`,
  }));
}

export async function deploys(from: number, to: number, service?: string): Promise<Deploy[]> {
  const sel = service ? `{service="${service.replace(/"/g, '\\"')}"}` : undefined;
  const evs = await events({ kind: 'deploy', start: from / 1000, end: to / 1000, limit: 1000, selector: sel });
  return deploysOf(evs);
}

// Prometheus' /api/v1/alerts. undefined when no rules are configured (404).
export interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
  activeAt?: string;
  value?: string;
}
export async function alerts(): Promise<Alert[] | undefined> {
  try {
    const r = await api<any>('/api/v1/alerts');
    return r.data.alerts || [];
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return undefined;
    throw e;
  }
}

export function bandsOf(as: Alert[] | undefined, service: string | undefined, to: number): Band[] {
  if (!as) return [];
  return as
    .filter((a) => a.state === 'firing' && a.activeAt && (!service || !a.labels.service || a.labels.service === service))
    .map((a) => ({ from: Date.parse(a.activeAt!), to, label: a.labels.alertname + (a.labels.service ? ' ' + a.labels.service : '') }));
}

export interface Panel {
  resultType?: string;
  result?: Series[];
  error?: string;
}
export async function overview(from: number, to: number, step: number): Promise<Record<string, Panel>> {
  const r = await api<any>('/api/v1/console/overview?' + qs({ start: from / 1000, end: to / 1000, step: step / 1000 }));
  return r.data;
}

export const key = (m: Record<string, string>) => `${m.provider || ''}/${m.service || ''}/${m.environment || ''}`;

export function last(s: Series | undefined): number | null {
  if (!s || !s.values.length) return null;
  const v = parseFloat(s.values[s.values.length - 1][1]);
  return isFinite(v) ? v : null;
}
