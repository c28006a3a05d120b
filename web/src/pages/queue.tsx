// queue.tsx - queues (depth, age, throughput, failures, pause/resume), jobs
// by state, one job's payload, result and every attempt's error; retry and
// cancel. Updates every 3 s while the page is open.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, qs } from '../api';
import { href, Route, setParams } from '../route';
import { ago, dateTime, fmtNum } from '../time';
import { CopyLink, Empty, ErrorBox, Section, Status, useData } from '../ui';

const STATES = ['', 'available', 'running', 'completed', 'failed', 'cancelled'];
const LEVEL: Record<string, 'bad' | 'warn' | 'ok' | 'info' | 'none'> = {
  failed: 'bad',
  cancelled: 'none',
  completed: 'ok',
  running: 'info',
  available: 'none',
  scheduled: 'none',
  retryable: 'warn',
};

function usePoll(ms: number) {
  const [n, setN] = useState(0);
  useEffect(() => {
    const id = setInterval(() => !document.hidden && setN((x) => x + 1), ms);
    return () => clearInterval(id);
  }, [ms]);
  return n;
}

function noDb(e?: ApiError) {
  if (!e) return null;
  if (e.status === 404) return <Empty>The jobs API is off: pane serve runs without PostgreSQL. Set DATABASE_URL (or database_url in pane.yaml) and restart; docs/queue.md.</Empty>;
  if (e.status === 403) return <ErrorBox error={e} what="this needs a token with the admin scope" />;
  return <ErrorBox error={e} />;
}

export function Queue({ route }: { route: Route }) {
  const poll = usePoll(3000);
  const queue = route.params.get('queue') || '';
  const state = route.params.get('state') || '';
  const jobId = route.params.get('job') || '';
  const [msg, setMsg] = useState<{ level: 'ok' | 'bad'; text: string } | null>(null);
  const [bump, setBump] = useState(0);
  const qsd = useData(() => api<any>('/v1/queues'), [poll, bump]);
  const jobs = useData(() => api<any>('/v1/jobs?' + qs({ queue, state, limit: 200 })), [queue, state, poll, bump]);
  const job = useData(() => (jobId ? api<any>('/v1/jobs/' + encodeURIComponent(jobId)) : Promise.resolve(null)), [jobId, poll, bump]);

  const act = async (what: string, url: string) => {
    try {
      const r = await api<any>(url, { method: 'POST', body: '{}' });
      setMsg({ level: 'ok', text: `${what}: done${r && r.state ? ' — the job is now ' + r.state : ''}` });
    } catch (e) {
      const er = e as ApiError;
      setMsg({ level: 'bad', text: `${what} failed: ${er.message}${er.status === 403 ? ' (needs a token with the admin scope)' : ''}` });
    }
    setBump((b) => b + 1);
  };

  return (
    <div class="page queue">
      <div class="pagehead">
        <h1>Queue</h1>
        <span class="muted small">updates every 3 s</span>
        <span class="grow" />
        <CopyLink />
      </div>
      {msg && (
        <div class={'msg ' + msg.level} role="status" data-testid="action-result">
          <Status level={msg.level}>{msg.text}</Status>
        </div>
      )}
      <Section title="Queues">
        {noDb(qsd.error)}
        {qsd.data && !qsd.data.queues.length && <Empty>No queues yet: enqueue a job with POST /v1/queues/NAME/jobs (docs/queue.md).</Empty>}
        {qsd.data && qsd.data.queues.length > 0 && (
          <table class="grid">
            <thead>
              <tr>
                <th>queue</th>
                <th class="r">available</th>
                <th class="r">scheduled</th>
                <th class="r">running</th>
                <th class="r">oldest runnable</th>
                <th class="r">jobs/s</th>
                <th class="r">done last min</th>
                <th class="r">failed</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {qsd.data.queues.map((x: any) => (
                <tr class={x.queue === queue ? 'on' : ''}>
                  <td>
                    <a href={href('queue', '', { queue: x.queue === queue ? undefined : x.queue })}>{x.queue}</a>{' '}
                    {x.paused && <Status level="warn">paused</Status>}
                  </td>
                  <td class="r num">{fmtNum(x.available)}</td>
                  <td class="r num">{fmtNum(x.scheduled)}</td>
                  <td class="r num">{fmtNum(x.running)}</td>
                  <td class="r num">{x.oldest_runnable_age_seconds ? ago(Date.now() - x.oldest_runnable_age_seconds * 1000) : '—'}</td>
                  <td class="r num">{fmtNum(x.throughput_per_second)}</td>
                  <td class="r num">{fmtNum(x.completed_last_minute)}</td>
                  <td class="r">{x.failed ? <Status level="bad">{x.failed}</Status> : <span class="num muted">0</span>}</td>
                  <td class="r">
                    <button class="btn" data-action={x.paused ? 'resume' : 'pause'} onClick={() => act(x.paused ? 'resume ' + x.queue : 'pause ' + x.queue, `/v1/queues/${encodeURIComponent(x.queue)}/${x.paused ? 'resume' : 'pause'}`)}>
                      {x.paused ? 'resume' : 'pause'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <div class="split">
        <Section
          title={'Jobs' + (queue ? ' in ' + queue : '')}
          right={
            <span class="tabs" role="tablist">
              {STATES.map((s) => (
                <button role="tab" aria-selected={s === state} class={'tab' + (s === state ? ' on' : '')} onClick={() => setParams({ state: s })}>
                  {s || 'all'}
                </button>
              ))}
            </span>
          }
        >
          {noDb(jobs.error)}
          {jobs.data && !jobs.data.jobs.length && <Empty>No {state || ''} jobs{queue ? ' in ' + queue : ''}.</Empty>}
          {jobs.data && jobs.data.jobs.length > 0 && (
            <table class="grid jobs">
              <thead>
                <tr>
                  <th>id</th>
                  <th>queue</th>
                  <th>state</th>
                  <th class="r">attempt</th>
                  <th>created</th>
                  <th>finished</th>
                </tr>
              </thead>
              <tbody>
                {jobs.data.jobs.map((j: any) => (
                  <tr class={String(j.id) === jobId ? 'on' : ''} data-job={j.id}>
                    <td>
                      <a href={href('queue', '', { queue: queue || undefined, state: state || undefined, job: String(j.id) })}>#{j.id}</a>
                    </td>
                    <td>{j.queue}</td>
                    <td>
                      <Status level={LEVEL[j.state] || 'none'}>{j.state}</Status>
                    </td>
                    <td class="r num">
                      {j.attempt}/{j.max_attempts}
                    </td>
                    <td class="muted" title={j.created_at}>
                      {ago(Date.parse(j.created_at))} ago
                    </td>
                    <td class="muted">{j.finished_at ? ago(Date.parse(j.finished_at)) + ' ago' : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
        {jobId && (
          <Section title={'Job #' + jobId} right={<a href={href('queue', '', { queue: queue || undefined, state: state || undefined })}>✕</a>}>
            {noDb(job.error)}
            {job.data && (
              <div class="job" data-state={job.data.state}>
                <p>
                  <Status level={LEVEL[job.data.state] || 'none'}>{job.data.state}</Status> · queue {job.data.queue} · attempt {job.data.attempt}/
                  {job.data.max_attempts} · created {dateTime(Date.parse(job.data.created_at))}
                </p>
                <div class="row">
                  <button class="btn" data-action="retry" disabled={!['failed', 'cancelled', 'completed'].includes(job.data.state)} onClick={() => act('retry #' + jobId, `/v1/jobs/${jobId}/retry`)}>
                    ↻ retry
                  </button>{' '}
                  <button class="btn danger" data-action="cancel" disabled={!['available', 'scheduled', 'running', 'retryable'].includes(job.data.state)} onClick={() => act('cancel #' + jobId, `/v1/jobs/${jobId}/cancel`)}>
                    ✕ cancel
                  </button>
                </div>
                <h3>Payload</h3>
                <pre>{JSON.stringify(job.data.payload, null, 2)}</pre>
                <h3>Result</h3>
                <pre>{job.data.result === null ? '—' : JSON.stringify(job.data.result, null, 2)}</pre>
                <h3>Attempts' errors</h3>
                {(job.data.errors || []).length === 0 ? (
                  <p class="muted">none</p>
                ) : (
                  <ol class="errors">
                    {job.data.errors.map((e: any) => (
                      <li>
                        <pre>{typeof e === 'string' ? e : JSON.stringify(e, null, 2)}</pre>
                      </li>
                    ))}
                  </ol>
                )}
              </div>
            )}
          </Section>
        )}
      </div>
    </div>
  );
}
