-- 006_claim_after.sql - the worker's claim starts after the last job it
-- claimed instead of at the head of the queue.
--
-- Measured on a 100,000-job drain (bench/README.md, "Why 100,000 jobs at
-- concurrency 32 cost more per job" and "A claim that starts where the last
-- one stopped"): a claim's index scan of jobs_runnable starts at the queue's
-- first key and steps over the entries of every job claimed before (the
-- claimed version left the partial index's predicate, but its entry stays
-- until VACUUM removes it), so the n-th claim of a drain reads ~n/200 of the
-- index: 300 buffers and ~2 ms to its first row half-way through 100,000
-- jobs, against 17 buffers on a fresh queue. Claims during a drain form a
-- sequence in claim order, so the next one can descend straight to the key
-- after the last job the previous one took.
--
-- pane.claim_batch_after(worker, queue, n, lease_seconds, after_priority,
-- after_run_at, after_id) claims up to n jobs like pane.claim_batch (same
-- pause, limits and columns, plus priority and run_at, rows in claim order),
-- looking in three places in turn until it has n:
--   1. the same priority as the key, after (run_at, id) - an index range
--      that starts at the key, past the claimed prefix;
--   2. lower priorities (priority < after_priority) from their first key;
--   3. everything at or before the key from the head of the queue - the
--      jobs the key skipped: ones made runnable behind it (a higher
--      priority, an earlier run_at, a job given back or rescued) and ones
--      another transaction held locked. Only reached when 1 and 2 were
--      short, i.e. at the end of a backlog, so that walk is paid once per
--      drain rather than once per claim.
-- With a NULL key it is pane.claim_batch. The caller keeps the key (the
-- last row's priority, run_at and id) and drops it whenever claim order
-- may have changed behind it: the worker does on every NOTIFY pane_jobs
-- for the queue (an insert), after a reconnect and at every maintenance
-- tick (1 s by default: retries, rescues and released jobs send no NOTIFY).
-- So a job made runnable behind the key waits at most until then, or until
-- the backlog after the key is gone, whichever is first.
--
-- pane.claim and pane.claim_batch are unchanged (older workers keep using
-- them).

CREATE FUNCTION pane.claim_batch_after(worker text, queue text, n int, lease_seconds double precision,
		after_priority int, after_run_at timestamptz, after_id bigint)
RETURNS TABLE(id bigint, attempt int, max_attempts int, timeout_ms bigint, pickup_ms double precision, payload jsonb,
		priority int, run_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_room int;
	v_tokens double precision;
	v_got int;
	v_ctids tid[];
	v_keyed boolean := after_priority IS NOT NULL AND after_run_at IS NOT NULL AND after_id IS NOT NULL;
BEGIN
	SELECT r.room, r.tokens INTO v_room, v_tokens FROM pane._claim_room(claim_batch_after.queue, claim_batch_after.n) r;
	IF v_room <= 0 THEN
		RETURN;
	END IF;
	IF v_keyed THEN
		-- 1. the key's priority, after it: (run_at, id) is an index bound
		v_ctids := ARRAY(
			SELECT c.ctid FROM pane.jobs c
			WHERE c.state = 'available' AND c.queue = claim_batch_after.queue AND c.priority = after_priority
				AND (c.run_at, c.id) > (after_run_at, after_id) AND c.run_at <= now()
			ORDER BY c.priority DESC, c.run_at, c.id
			LIMIT v_room FOR UPDATE SKIP LOCKED);
		-- 2. lower priorities, from their first key
		IF cardinality(v_ctids) < v_room THEN
			v_ctids := v_ctids || ARRAY(
				SELECT c.ctid FROM pane.jobs c
				WHERE c.state = 'available' AND c.queue = claim_batch_after.queue AND c.priority < after_priority
					AND c.run_at <= now()
				ORDER BY c.priority DESC, c.run_at, c.id
				LIMIT v_room - cardinality(v_ctids) FOR UPDATE SKIP LOCKED);
		END IF;
		-- 3. what the key skipped, from the head (never the rows taken above:
		-- those are after the key, and this transaction's own locks do not
		-- make SKIP LOCKED skip them)
		IF cardinality(v_ctids) < v_room THEN
			v_ctids := v_ctids || ARRAY(
				SELECT c.ctid FROM pane.jobs c
				WHERE c.state = 'available' AND c.queue = claim_batch_after.queue AND c.run_at <= now()
					AND (c.priority > after_priority
					     OR (c.priority = after_priority AND (c.run_at, c.id) <= (after_run_at, after_id)))
				ORDER BY c.priority DESC, c.run_at, c.id
				LIMIT v_room - cardinality(v_ctids) FOR UPDATE SKIP LOCKED);
		END IF;
	ELSE
		v_ctids := ARRAY(
			SELECT c.ctid FROM pane.jobs c
			WHERE c.state = 'available' AND c.queue = claim_batch_after.queue AND c.run_at <= now()
			ORDER BY c.priority DESC, c.run_at, c.id
			LIMIT v_room FOR UPDATE SKIP LOCKED);
	END IF;
	IF cardinality(v_ctids) = 0 THEN
		RETURN;
	END IF;
	-- the rows are locked by this transaction, so the versions those ctids
	-- name are the current ones and are updated as they are
	RETURN QUERY
	WITH u AS (
		UPDATE pane.jobs j SET state = 'running', attempt = j.attempt + 1, locked_by = claim_batch_after.worker,
			started_at = clock_timestamp(), lease_expires_at = clock_timestamp() + make_interval(secs => lease_seconds)
		WHERE j.ctid = ANY(v_ctids)
		RETURNING j.id, j.attempt, j.max_attempts, coalesce((date_part('epoch', j.timeout) * 1000)::bigint, 0) AS timeout_ms,
			date_part('epoch', j.started_at - j.run_at) * 1000 AS pickup_ms, j.payload, j.priority, j.run_at
	)
	SELECT u.id, u.attempt, u.max_attempts, u.timeout_ms, u.pickup_ms, u.payload, u.priority, u.run_at
	FROM u ORDER BY u.priority DESC, u.run_at, u.id;
	GET DIAGNOSTICS v_got = ROW_COUNT;
	IF v_tokens IS NOT NULL THEN
		UPDATE pane.queues SET tokens = v_tokens - v_got, tokens_at = clock_timestamp()
		WHERE name = claim_batch_after.queue;
	END IF;
END
$$;
