-- 005_claim_batch.sql - a leaner claim for workers; retention and rescue use
-- their indexes as ranges.
--
-- Measured on a 100,000-job drain (bench/README.md, "Where a claim and a
-- completion go"):
--
-- 1. pane.prune_history and pane.rescue compared an indexed column with
--    clock_timestamp() - ..., which is volatile, so it was a filter and not
--    an index bound: every call (once a second per worker) walked the whole
--    jobs_history_finished index (17 ms at 48,000 history rows; a week of
--    history at 1M rows would be ~350 ms a second per worker) and the whole
--    jobs_running index. The cut-off is now computed once into a variable,
--    which the plan uses as the index bound. Same arguments and results.
-- 2. pane.claim_batch is pane.claim for the worker runtime: it returns only
--    the columns a worker reads (the timeout and the pickup delay as float8
--    arithmetic instead of numeric, computed in the RETURNING), so the
--    function no longer copies every column of 500 rows into its result
--    store, and it updates the locked rows by ctid (a TID scan) instead of
--    looking each id up again in the primary key. The ctid is the version
--    this statement locked; a row whose newer version is not visible to the
--    statement's snapshot is left alone (not claimed this time, never lost:
--    it stays available once the lock goes with the transaction). pane.claim
--    is unchanged for other callers; both share the limits (pause, global
--    concurrency, rate) in pane._claim_room.

-- How many of n jobs a claim on queue may take now, and the rate limit's
-- tokens at this instant (NULL when the queue has no rate limit). With a
-- limit set, the queue's row is locked until the caller's transaction ends,
-- so claims on a limited queue serialise.
CREATE FUNCTION pane._claim_room(queue text, n int, OUT room int, OUT tokens double precision)
LANGUAGE plpgsql AS $$
DECLARE
	q pane.queues%ROWTYPE;
	v_running int;
BEGIN
	room := n;
	SELECT * INTO q FROM pane.queues WHERE name = _claim_room.queue;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	IF q.paused THEN
		room := 0;
		RETURN;
	END IF;
	IF q.concurrency IS NOT NULL OR q.rate_limit IS NOT NULL THEN
		SELECT * INTO q FROM pane.queues WHERE name = _claim_room.queue FOR UPDATE;
		IF q.paused THEN
			room := 0;
			RETURN;
		END IF;
		IF q.concurrency IS NOT NULL THEN
			SELECT count(*) INTO v_running FROM pane.jobs j WHERE j.queue = _claim_room.queue AND j.state = 'running';
			room := least(room, q.concurrency - v_running);
		END IF;
		IF q.rate_limit IS NOT NULL THEN
			tokens := least(q.rate_limit::double precision, q.tokens +
				extract(epoch FROM clock_timestamp() - q.tokens_at) * q.rate_limit / extract(epoch FROM q.rate_period));
			room := least(room, floor(tokens)::int);
		END IF;
	END IF;
END
$$;

-- Claims up to n runnable jobs of queue for worker, honouring pause and the
-- queue's limits like pane.claim; returns what a worker needs of each job:
-- timeout_ms is 0 without a timeout, pickup_ms the time from run_at to the
-- claim.
CREATE FUNCTION pane.claim_batch(worker text, queue text, n int, lease_seconds double precision)
RETURNS TABLE(id bigint, attempt int, max_attempts int, timeout_ms bigint, pickup_ms double precision, payload jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_room int;
	v_tokens double precision;
	v_got int;
BEGIN
	SELECT r.room, r.tokens INTO v_room, v_tokens FROM pane._claim_room(claim_batch.queue, claim_batch.n) r;
	IF v_room <= 0 THEN
		RETURN;
	END IF;
	RETURN QUERY
	UPDATE pane.jobs j SET state = 'running', attempt = j.attempt + 1, locked_by = claim_batch.worker,
		started_at = clock_timestamp(), lease_expires_at = clock_timestamp() + make_interval(secs => lease_seconds)
	WHERE j.ctid = ANY(ARRAY(
		SELECT c.ctid FROM pane.jobs c
		WHERE c.state = 'available' AND c.queue = claim_batch.queue AND c.run_at <= now()
		ORDER BY c.priority DESC, c.run_at, c.id
		LIMIT v_room FOR UPDATE SKIP LOCKED))
	RETURNING j.id, j.attempt, j.max_attempts, coalesce((date_part('epoch', j.timeout) * 1000)::bigint, 0),
		date_part('epoch', j.started_at - j.run_at) * 1000, j.payload;
	GET DIAGNOSTICS v_got = ROW_COUNT;
	IF v_tokens IS NOT NULL THEN
		UPDATE pane.queues SET tokens = v_tokens - v_got, tokens_at = clock_timestamp()
		WHERE name = claim_batch.queue;
	END IF;
END
$$;

-- pane.claim (001) with its limits in pane._claim_room; otherwise unchanged.
CREATE OR REPLACE FUNCTION pane.claim(worker text, queue text, n int, lease_seconds double precision)
RETURNS SETOF pane.jobs
LANGUAGE plpgsql AS $$
DECLARE
	v_room int;
	v_tokens double precision;
	v_got int;
BEGIN
	SELECT r.room, r.tokens INTO v_room, v_tokens FROM pane._claim_room(claim.queue, claim.n) r;
	IF v_room <= 0 THEN
		RETURN;
	END IF;
	RETURN QUERY
	UPDATE pane.jobs j SET state = 'running', attempt = j.attempt + 1, locked_by = claim.worker,
		started_at = clock_timestamp(), lease_expires_at = clock_timestamp() + make_interval(secs => lease_seconds)
	WHERE j.id = ANY(ARRAY(
		SELECT c.id FROM pane.jobs c
		WHERE c.state = 'available' AND c.queue = claim.queue AND c.run_at <= now()
		ORDER BY c.priority DESC, c.run_at, c.id
		LIMIT v_room FOR UPDATE SKIP LOCKED))
	RETURNING j.*;
	GET DIAGNOSTICS v_got = ROW_COUNT;
	IF v_tokens IS NOT NULL THEN
		UPDATE pane.queues SET tokens = v_tokens - v_got, tokens_at = clock_timestamp() WHERE name = claim.queue;
	END IF;
END
$$;

-- Retention as in 001, with the cut-off as an index bound.
CREATE OR REPLACE FUNCTION pane.prune_history(retention interval DEFAULT NULL, batch int DEFAULT 10000) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
	v_cut timestamptz := clock_timestamp() - coalesce(retention, pane._setting('history_retention', '7 days')::interval);
	v_n int;
BEGIN
	DELETE FROM pane.jobs_history h WHERE h.id IN (
		SELECT h2.id FROM pane.jobs_history h2 WHERE h2.finished_at < v_cut
		ORDER BY h2.finished_at LIMIT batch);
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n;
END
$$;

-- Rescue as in 001, with the expiry instant as an index bound.
CREATE OR REPLACE FUNCTION pane.rescue(backoff_base_seconds double precision DEFAULT 1,
		worker_ttl_seconds double precision DEFAULT 90)
RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
	v_now timestamptz := clock_timestamp();
	v_ids bigint[];
	v_attempts int[];
	v_workers text[];
	v_n int := 0;
	w text;
	r record;
BEGIN
	SELECT array_agg(j.id ORDER BY j.id), array_agg(j.attempt ORDER BY j.id), array_agg(DISTINCT j.locked_by)
	INTO v_ids, v_attempts, v_workers
	FROM (SELECT j.id, j.attempt, j.locked_by FROM pane.jobs j
		WHERE j.state = 'running' AND j.lease_expires_at < v_now
		ORDER BY j.lease_expires_at LIMIT 1000 FOR UPDATE SKIP LOCKED) j;
	IF v_ids IS NOT NULL THEN
		FOREACH w IN ARRAY v_workers LOOP
			FOR r IN SELECT * FROM pane.fail_jobs(w,
				ARRAY(SELECT j.id FROM pane.jobs j WHERE j.id = ANY(v_ids) AND j.locked_by = w ORDER BY j.id),
				ARRAY(SELECT j.attempt FROM pane.jobs j WHERE j.id = ANY(v_ids) AND j.locked_by = w ORDER BY j.id),
				ARRAY(SELECT format('lease expired: worker %s stopped heartbeating', w) FROM pane.jobs j
					WHERE j.id = ANY(v_ids) AND j.locked_by = w),
				NULL, backoff_base_seconds) LOOP
				v_n := v_n + 1;
			END LOOP;
		END LOOP;
	END IF;
	DELETE FROM pane.workers wk WHERE wk.last_seen < v_now - make_interval(secs => worker_ttl_seconds);
	RETURN v_n;
END
$$;

-- pane.complete_jobs as in 001, in PL/pgSQL: a LANGUAGE sql function with a
-- SET clause is never inlined and plans its statement again on every call
-- (about 1 ms for a batch of 500 ids, of the 9-10 ms the call takes);
-- PL/pgSQL keeps the plan for the session. Same arguments and results.
CREATE OR REPLACE FUNCTION pane.complete_jobs(worker text, ids bigint[], attempts int[], results jsonb[] DEFAULT NULL)
RETURNS SETOF bigint
LANGUAGE plpgsql SET enable_nestloop = off AS $$
BEGIN
	RETURN QUERY
	WITH u AS (
		SELECT * FROM unnest(ids, attempts, coalesce(results, array_fill(NULL::jsonb, ARRAY[cardinality(ids)])))
			AS u(id, attempt, result)
	), d AS (
		DELETE FROM pane.jobs j USING u
		WHERE j.id = ANY(ids) AND j.id = u.id AND j.attempt = u.attempt AND j.locked_by = complete_jobs.worker
		RETURNING j.*, u.result AS new_result
	)
	INSERT INTO pane.jobs_history AS h (id, queue, state, payload, priority, attempt, max_attempts, run_at, created_at,
		started_at, finished_at, unique_key, timeout, locked_by, lease_expires_at, errors, result)
	SELECT d.id, d.queue, 'completed', d.payload, d.priority, d.attempt, d.max_attempts, d.run_at, d.created_at,
		d.started_at, clock_timestamp(), d.unique_key, d.timeout, d.locked_by, d.lease_expires_at, d.errors, d.new_result
	FROM d
	RETURNING h.id;
END
$$;
