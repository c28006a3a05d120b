// vlist.tsx - a virtualised list: only the rows in view (plus a margin) are
// in the DOM, so 100,000 log lines scroll like 100.
import { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

export interface VListProps<T> {
  items: T[];
  rowHeight: number;
  height: number | string;
  row: (item: T, index: number) => ComponentChildren;
  scrollToIndex?: number | null; // brings this row to the middle of the view
  onEnd?: () => void; // scrolled near the end (load more)
  label?: string;
}

export function VList<T>(p: VListProps<T>) {
  const el = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [h, setH] = useState(600);
  useEffect(() => {
    const e = el.current!;
    const ro = new ResizeObserver(() => setH(e.clientHeight || 600));
    ro.observe(e);
    return () => ro.disconnect();
  }, []);
  useEffect(() => {
    if (p.scrollToIndex === null || p.scrollToIndex === undefined || !el.current) return;
    const e = el.current;
    const want = Math.max(0, p.scrollToIndex * p.rowHeight - e.clientHeight / 2 + p.rowHeight / 2);
    e.scrollTop = want;
    setTop(e.scrollTop);
  }, [p.scrollToIndex]);
  const n = p.items.length;
  const first = Math.max(0, Math.floor(top / p.rowHeight) - 10);
  const lastI = Math.min(n, Math.ceil((top + h) / p.rowHeight) + 10);
  const rows = [];
  for (let i = first; i < lastI; i++)
    rows.push(
      <div class="vrow" style={{ top: i * p.rowHeight + 'px', height: p.rowHeight + 'px' }} data-index={i} key={i}>
        {p.row(p.items[i], i)}
      </div>,
    );
  return (
    <div
      ref={el}
      class="vlist"
      role="list"
      aria-label={p.label}
      tabIndex={0}
      style={{ height: typeof p.height === 'number' ? p.height + 'px' : p.height }}
      onScroll={(e) => {
        const t = (e.target as HTMLDivElement).scrollTop;
        setTop(t);
        if (p.onEnd && t + h > n * p.rowHeight - p.rowHeight * 20) p.onEnd();
      }}
    >
      <div class="vspace" style={{ height: n * p.rowHeight + 'px' }}>
        {rows}
      </div>
    </div>
  );
}
