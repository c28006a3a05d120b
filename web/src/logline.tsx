// logline.tsx - one log line, the same on every page.
import { LogLine } from './api';
import { clock } from './time';

const SEV: Record<string, [string, string]> = {
  fatal: ['bad', '✗'],
  error: ['bad', '✗'],
  warn: ['warn', '▲'],
  warning: ['warn', '▲'],
  info: ['info', '·'],
  debug: ['none', '·'],
};

export function LogRow({ l, hot, onClick }: { l: LogLine; hot?: boolean; onClick?: () => void }) {
  const [cls, ico] = SEV[l.severity] || ['none', '·'];
  return (
    <div class={'logline' + (hot ? ' hot' : '')} onClick={onClick} data-ts={l.ts} title={new Date(l.ts).toISOString()}>
      <span class="ts">{clock(l.ts)}</span>
      <span class={'sev ' + cls}>
        {ico} {l.severity === 'warning' ? 'warn' : l.severity}
      </span>
      <span class="src muted">{l.labels.service}{l.labels.source ? '/' + l.labels.source : ''}</span>
      <span class="msgtext">{l.message}</span>
    </div>
  );
}
