-- 007_claim_room.sql - room on its own page for a claimed job's new
-- version, and claim/complete plans kept for the session.
--
-- Measured on a 100,000-job drain (bench/README.md, "Where the CPU per job
-- goes, and room for the claimed version", 2026-12-03): a claim's UPDATE
-- cannot be HOT (it changes `state`, the predicate of jobs_runnable and
-- jobs_running, and lease_expires_at, the key of jobs_running), so every
-- claim writes a new heap version and a new jobs_pkey entry. With
-- fillfactor 80 an enqueued page keeps room for about a quarter of its
-- rows' new versions; the rest went to other pages, mostly pages added at
-- the end of the table (one relation extension, a pwrite of 8 kB, per ~45
-- claimed jobs), and the UPDATE's WAL record then carries the whole new
-- tuple (the prefix/suffix compression against the old version only
-- applies on the same page).
-- jobs_pkey, filled to 90% by the ascending ids of enqueues, had no room
-- for the claim's second entry of the same key: page splits and bottom-up
-- deletion passes (each visiting heap pages) during claims.
--
-- Both now leave half of each new page free: a claimed version lands next
-- to the one it replaces, and its key next to the old key. Measured: WAL
-- per claimed job 435 -> 372 bytes (per drained job 822 -> 766), no
-- relation extension during a drain, the table no larger after a drain (the
-- versions that used to go to new pages fill the reserved half instead).
--
-- Only pages written after this migration are affected (existing pages keep
-- their layout; nothing is rewritten, and ALTER ... SET (fillfactor) takes a
-- SHARE UPDATE EXCLUSIVE lock, which does not block enqueues, claims or
-- completions).

ALTER TABLE pane.jobs SET (fillfactor = 50);
ALTER INDEX pane.jobs_pkey SET (fillfactor = 50);

-- The worker's claim and completion run their statements with generic plans.
-- PL/pgSQL keeps a statement's plan in the session's plan cache, but a
-- statement with parameters is planned again on every call for as long as
-- its custom plans look cheaper than the generic one - and they always did
-- here: `LIMIT v_room` and `id = ANY(ids)` are estimated from the actual
-- values in a custom plan and from defaults in the generic one. So every
-- claim planned its three row selections and its UPDATE, and every
-- completion its DELETE ... INSERT, again (about 3% of the instructions a
-- drain executes in PostgreSQL, counted with callgrind). The generic plans
-- are the ones the custom plans were: an index scan of jobs_runnable in claim
-- order under LockRows, a TID scan for the UPDATE, an index scan of
-- jobs_pkey for `id = ANY(ids)` hashed against the unnested arguments.
-- Same functions, arguments and results; only the SET clause is added.
ALTER FUNCTION pane.claim_batch_after(text, text, int, double precision, int, timestamptz, bigint)
	SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION pane.claim_batch(text, text, int, double precision)
	SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION pane.complete_jobs(text, bigint[], int[], jsonb[])
	SET plan_cache_mode = force_generic_plan;
