// gw-bench.mjs - graphile-worker 0.18 side of bench/run-queue.sh.
//
//   DATABASE_URL=... MODE=enqueue|drain|pickup N=20000 node gw-bench.mjs
//
// enqueue: addJobs in batches of BATCH (default 1000), prints jobs/s.
// drain:   run() with its fastest settings (localQueue + batched completion,
//          no-op task) until N jobs ran and the runner stopped (completions
//          flushed); prints jobs/s. Jobs must have been enqueued before.
// pickup:  an idle runner; N single addJob calls 20 ms apart; prints p50/p99
//          of (handler start - addJob resolved) in ms.
// Output: one line "graphile <mode> <value...>" for the script to collect.
import { makeWorkerUtils, run } from "graphile-worker";

const connectionString = process.env.DATABASE_URL;
const mode = process.env.MODE ?? "drain";
const N = Number(process.env.N ?? 20000);
const BATCH = Number(process.env.BATCH ?? 1000);
const CONC = Number(process.env.CONCURRENCY ?? 24);
const now = () => performance.timeOrigin + performance.now();
import { Logger } from "graphile-worker";
const logger = new Logger(() => () => {});

const utils = await makeWorkerUtils({ connectionString, logger });
await utils.migrate();

if (mode === "enqueue") {
  const t = now();
  for (let off = 0; off < N; off += BATCH) {
    const n = Math.min(BATCH, N - off);
    await utils.addJobs(Array.from({ length: n }, (_, i) => ({ identifier: "noop", payload: { i: off + i } })));
  }
  const s = (now() - t) / 1000;
  console.log(`graphile enqueue ${N} ${(N / s).toFixed(0)}`);
  await utils.release();
} else if (mode === "drain") {
  await utils.release();
  let done = 0, resolveDone;
  const finished = new Promise((r) => (resolveDone = r));
  const t = now();
  const runner = await run({
    connectionString, logger, noHandleSignals: true,
    taskList: { noop: async () => { if (++done === N) resolveDone(); } },
    concurrency: CONC,
    preset: { worker: { concurrentJobs: CONC, maxPoolSize: CONC + 1, localQueue: { size: 500 },
                        completeJobBatchDelay: 0, failJobBatchDelay: 0, pollInterval: 1000 } },
  });
  await finished;
  await runner.stop();
  const s = (now() - t) / 1000;
  console.log(`graphile drain ${N} ${(N / s).toFixed(0)}`);
} else if (mode === "pickup") {
  const starts = new Map();
  const runner = await run({
    connectionString, logger, noHandleSignals: true,
    taskList: { lat: async (p) => { starts.set(p.i, now()); } },
    concurrency: 4,
    preset: { worker: { concurrentJobs: 4, localQueue: { size: -1 }, completeJobBatchDelay: -1, pollInterval: 1000 } },
  });
  await new Promise((r) => setTimeout(r, 500));
  const sent = [];
  for (let i = 0; i < N; i++) {
    await utils.addJob("lat", { i });
    sent.push(now());
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 500));
  const lat = [];
  for (let i = 0; i < N; i++) if (starts.has(i)) lat.push(starts.get(i) - sent[i]);
  lat.sort((a, b) => a - b);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2);
  console.log(`graphile pickup ${lat.length} ${pct(0.5)} ${pct(0.99)}`);
  await runner.stop();
  await utils.release();
}
