// ui.tsx - small shared pieces: data loading tied to the refresh tick,
// status words with icons, empty states that say why and what to do.
import { createContext, ComponentChildren } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { ApiError } from './api';

export const Tick = createContext(0);

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
}

// Runs fn when deps change and at every auto-refresh tick; keeps the last
// data while reloading so the page never blanks.
export function useData<T>(fn: () => Promise<T>, deps: any[]): Loaded<T> {
  const tick = useContext(Tick);
  const [st, setSt] = useState<Loaded<T>>({ data: undefined, error: undefined, loading: true });
  useEffect(() => {
    let live = true;
    setSt((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => live && setSt({ data, error: undefined, loading: false }),
      (e) => live && setSt((s) => ({ data: s.data, error: e instanceof ApiError ? e : new ApiError(0, String(e)), loading: false })),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return st;
}

export function ErrorBox({ error, what }: { error?: ApiError; what?: string }) {
  if (!error) return null;
  return (
    <div class="msg bad" role="alert">
      <span class="ico">✗</span> {what ? what + ': ' : ''}
      {error.message}
      {error.status ? <span class="muted"> (HTTP {error.status})</span> : null}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

export type Level = 'bad' | 'warn' | 'ok' | 'info' | 'none';
const ICON: Record<Level, string> = { bad: '✗', warn: '▲', ok: '✓', info: '●', none: '·' };
export function Status({ level, children }: { level: Level; children?: ComponentChildren }) {
  return (
    <span class={'st ' + level}>
      <span class="ico" aria-hidden="true">
        {ICON[level]}
      </span>{' '}
      {children}
    </span>
  );
}

export function Section({ title, children, right }: { title: ComponentChildren; children: ComponentChildren; right?: ComponentChildren }) {
  return (
    <section class="card">
      <header>
        <h2>{title}</h2>
        {right && <div class="right">{right}</div>}
      </header>
      {children}
    </section>
  );
}

export function CopyLink() {
  const [done, setDone] = useState(false);
  return (
    <button
      class="btn ghost"
      title="copy a link to this view"
      onClick={() => {
        navigator.clipboard?.writeText(location.href).then(() => setDone(true), () => setDone(false));
        setTimeout(() => setDone(false), 1500);
      }}
    >
      {done ? '✓ copied' : 'copy link'}
    </button>
  );
}
