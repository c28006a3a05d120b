// main.tsx - the console's shell: navigation, the one time range and
// auto-refresh (both in the URL), theme, the token prompt, keyboard keys.
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { onNeedToken, setToken, hasToken } from './api';
import { href, setParams, useRoute } from './route';
import { parseDuration, setNow } from './time';
import { Tick } from './ui';
import { Overview } from './pages/overview';
import { Service } from './pages/service';
import { Explore } from './pages/explore';
import { Logs } from './pages/logs';
import { Queue } from './pages/queue';
import { Alerts } from './pages/alerts';
import { Changes } from './pages/changes';
import { Unlabelled } from './pages/unlabelled';

const PAGES: [string, string, string][] = [
  ['overview', 'Overview', 'o'],
  ['explore', 'Explore', 'e'],
  ['logs', 'Logs', 'l'],
  ['queue', 'Queue', 'q'],
  ['alerts', 'Alerts', 'a'],
  ['changes', 'What changed', 'c'],
];
const RANGES = ['-15m', '-1h', '-6h', '-24h', '-7d'];
const REFRESH = ['off', '5s', '15s', '1m'];

function TokenPrompt({ onDone }: { onDone: () => void }) {
  const [v, setV] = useState('');
  const inp = useRef<HTMLInputElement>(null);
  useEffect(() => inp.current?.focus(), []);
  return (
    <div class="modal" role="dialog" aria-labelledby="tok-h">
      <form
        class="card token"
        onSubmit={(e) => {
          e.preventDefault();
          setToken(v.trim());
          onDone();
        }}
      >
        <h2 id="tok-h">A token is needed</h2>
        <p>
          This pane is not on loopback, so its API wants a bearer token (<code>server.auth.tokens</code> in pane.yaml). The
          token stays in this tab only (sessionStorage) and is sent as an <code>Authorization</code> header. Retry, cancel,
          pause and silences need a token with the <code>admin</code> scope.
        </p>
        <input ref={inp} type="password" name="token" autocomplete="off" placeholder="token" value={v} onInput={(e) => setV((e.target as HTMLInputElement).value)} />
        <div class="row">
          <button class="btn primary" type="submit" disabled={!v.trim()}>
            Use token
          </button>
        </div>
      </form>
    </div>
  );
}

function App() {
  const route = useRoute();
  const [tick, setTick] = useState(0);
  const [needToken, setNeedToken] = useState(false);
  const [theme, setTheme] = useState(localStorage.getItem('pane.theme') || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
  const refresh = route.params.get('refresh') || 'off';
  useMemo(() => setNow(Date.now()), [tick, location.hash]);

  useEffect(() => onNeedToken((need) => setNeedToken(need)), []);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('pane.theme', theme);
  }, [theme]);
  useEffect(() => {
    const ms = parseDuration(refresh);
    if (!ms) return;
    const id = setInterval(() => !document.hidden && setTick((t) => t + 1), ms);
    return () => clearInterval(id);
  }, [refresh]);
  useEffect(() => {
    // g then a letter goes to a page; r reloads; / focuses the page's search
    let g = false;
    const f = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (g) {
        g = false;
        const p = PAGES.find((p) => p[2] === e.key);
        if (p) location.hash = href(p[0]);
        else if (e.key === 'u') location.hash = href('explore', '', { filter: 'unlabelled' });
        return;
      }
      if (e.key === 'g') g = true;
      else if (e.key === 'r') setTick((t) => t + 1);
      else if (e.key === '/') {
        const s = document.querySelector<HTMLInputElement>('[data-search]');
        if (s) (e.preventDefault(), s.focus());
      } else if (e.key === '?') alert('keys: g o/e/l/q/a/c go to a page · g u unlabelled series · r refresh · / search · Esc leave a field · Tab moves, Enter opens');
    };
    addEventListener('keydown', f);
    return () => removeEventListener('keydown', f);
  }, []);

  const page = route.page;
  let body;
  if (page === 'service') body = <Service name={route.arg} route={route} />;
  else if (page === 'explore' && route.params.get('filter') === 'unlabelled') body = <Unlabelled route={route} />;
  else if (page === 'explore') body = <Explore route={route} />;
  else if (page === 'logs') body = <Logs route={route} />;
  else if (page === 'queue') body = <Queue route={route} />;
  else if (page === 'alerts') body = <Alerts route={route} />;
  else if (page === 'changes') body = <Changes route={route} />;
  else body = <Overview route={route} />;

  const from = route.params.get('from') || '-6h';
  const absolute = !RANGES.includes(from);
  return (
    <Tick.Provider value={tick}>
      <nav class="top" aria-label="pages">
        <a class="brand" href={href('overview')}>
          pane
        </a>
        {PAGES.map(([id, name, key]) => (
          <a href={href(id)} class={page === id || (id === 'overview' && page === 'service') ? 'on' : ''} aria-current={page === id ? 'page' : undefined} title={'g ' + key}>
            {name}
          </a>
        ))}
        <span class="grow" />
        <label class="sel">
          <span class="sr">time range</span>
          <select
            aria-label="time range"
            value={absolute ? 'abs' : from}
            onChange={(e) => setParams({ from: (e.target as HTMLSelectElement).value, to: 'now' })}
          >
            {absolute && <option value="abs">custom window</option>}
            {RANGES.map((r) => (
              <option value={r}>last {r.slice(1)}</option>
            ))}
          </select>
        </label>
        <label class="sel">
          <span class="sr">auto-refresh</span>
          <select aria-label="auto-refresh" value={refresh} onChange={(e) => setParams({ refresh: (e.target as HTMLSelectElement).value === 'off' ? undefined : (e.target as HTMLSelectElement).value })}>
            {REFRESH.map((r) => (
              <option value={r}>⟳ {r}</option>
            ))}
          </select>
        </label>
        <button class="btn ghost" title="refresh now (r)" onClick={() => setTick((t) => t + 1)}>
          ⟳
        </button>
        <button class="btn ghost" title="light / dark" aria-label="switch theme" onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}>
          {theme === 'dark' ? '☀' : '☾'}
        </button>
        {hasToken() && (
          <button class="btn ghost" title="forget the token of this tab" onClick={() => (setToken(''), location.reload())}>
            sign out
          </button>
        )}
      </nav>
      <main id="main">{body}</main>
      {needToken && (
        <TokenPrompt
          onDone={() => {
            setNeedToken(false);
            setTick((t) => t + 1);
          }}
        />
      )}
    </Tick.Provider>
  );
}

render(<App />, document.getElementById('app')!);
