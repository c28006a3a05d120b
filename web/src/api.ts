// api.ts - every call the console makes goes through here: same origin, the
// tab's token (sessionStorage) as a bearer header, one error shape.
export class ApiError extends Error {
  constructor(public status: number, message: string, public code = '') {
    super(message);
  }
}

const TOKEN_KEY = 'pane.token';
let token = sessionStorage.getItem(TOKEN_KEY) || '';
const tokenListeners = new Set<(need: boolean) => void>();

export function setToken(t: string) {
  token = t;
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
  tokenListeners.forEach((f) => f(false));
}
export function hasToken() {
  return token !== '';
}
export function onNeedToken(f: (need: boolean) => void) {
  tokenListeners.add(f);
  return () => tokenListeners.delete(f);
}

export let requestCount = 0;

export async function api<T = any>(path: string, init: RequestInit = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  if (init.body && typeof init.body === 'string') headers['Content-Type'] = 'application/json';
  requestCount++;
  let r: Response;
  try {
    r = await fetch(path, { ...init, headers: { ...headers, ...(init.headers as any) } });
  } catch (e) {
    throw new ApiError(0, 'pane is not reachable: ' + (e as Error).message);
  }
  const text = await r.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (r.status === 401) {
    tokenListeners.forEach((f) => f(true));
  }
  if (!r.ok || (body && body.status === 'error')) {
    const msg =
      (body && (typeof body.error === 'string' ? body.error : body.error?.message)) ||
      (body && body.message) ||
      text.slice(0, 200) ||
      r.statusText;
    const code = (body && (body.errorType || body.error?.code)) || '';
    throw new ApiError(r.status, msg, code);
  }
  return body as T;
}

export function qs(params: Record<string, string | number | undefined | null>) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  return u.toString();
}

export interface Series {
  metric: Record<string, string>;
  values: [number, string][];
}
export interface Matrix {
  resultType: 'matrix';
  result: Series[];
}

export async function rangeQuery(query: string, start: number, end: number, step: number): Promise<Series[]> {
  const r = await api<{ data: Matrix }>(
    '/api/v1/query_range?' + qs({ query, start: start / 1000, end: end / 1000, step: Math.max(1, Math.round(step / 1000)) }),
  );
  return r.data.result;
}

export async function instantQuery(query: string, time?: number): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const r = await api<any>('/api/v1/query?' + qs({ query, time: time ? time / 1000 : undefined }));
  return r.data.resultType === 'vector' ? r.data.result : [];
}

export interface PaneEvent {
  ts: number;
  kind: string;
  labels: Record<string, string>;
  title: string;
  url: string | null;
  body: any;
}
export async function events(params: Record<string, any>): Promise<PaneEvent[]> {
  const r = await api<any>('/api/v1/events?' + qs(params));
  return r.data.events;
}

export interface LogLine {
  ts: number;
  severity: string;
  labels: Record<string, string>;
  message: string;
  fields: any;
}
export async function logs(params: Record<string, any>): Promise<{ logs: LogLine[]; next: string | null }> {
  const r = await api<any>('/api/v1/logs?' + qs(params));
  return r.data;
}

// A selector for logs/events: {a="b",c="d"} from the non-empty pairs.
export function selector(labels: Record<string, string | undefined>) {
  const parts = Object.entries(labels)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}="${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
  return parts.length ? '{' + parts.join(',') + '}' : '';
}
