// route.ts - all console state lives in the URL hash: #/page/arg?from=-6h&to=now
// so every view is a link and the back button works.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  page: string;
  arg: string;
  params: URLSearchParams;
}

export function parseHash(h = location.hash): Route {
  const s = h.replace(/^#\/?/, '');
  const q = s.indexOf('?');
  const path = q < 0 ? s : s.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : s.slice(q + 1));
  const [page, ...rest] = path.split('/');
  return { page: page || 'overview', arg: decodeURIComponent(rest.join('/')), params };
}

export function href(page: string, arg = '', params: Record<string, string | undefined> = {}, keepTime = true) {
  const cur = parseHash();
  const p = new URLSearchParams();
  if (keepTime) for (const k of ['from', 'to', 'refresh']) if (cur.params.get(k)) p.set(k, cur.params.get(k)!);
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '') p.delete(k);
    else p.set(k, v);
  }
  const qstr = p.toString();
  return '#/' + page + (arg ? '/' + encodeURIComponent(arg) : '') + (qstr ? '?' + qstr : '');
}

// Changes some parameters of the current view (replace: no history entry).
export function setParams(params: Record<string, string | undefined>, replace = false) {
  const cur = parseHash();
  const p = new URLSearchParams(cur.params);
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '') p.delete(k);
    else p.set(k, v);
  }
  const qstr = p.toString();
  const h = '#/' + cur.page + (cur.arg ? '/' + encodeURIComponent(cur.arg) : '') + (qstr ? '?' + qstr : '');
  if (replace) history.replaceState(null, '', h);
  else history.pushState(null, '', h);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useRoute(): Route {
  const [r, setR] = useState(parseHash());
  useEffect(() => {
    const f = () => setR(parseHash());
    window.addEventListener('hashchange', f);
    window.addEventListener('popstate', f);
    return () => {
      window.removeEventListener('hashchange', f);
      window.removeEventListener('popstate', f);
    };
  }, []);
  return r;
}
