-- 002_bulk.sql - bulk redrive and bulk cancel, one statement each.
--
-- `pane jobs retry --queue Q --state failed [--since T]` and
-- `pane jobs cancel --queue Q [--state S] [--since T]` call these. Each is a
-- single SQL statement (data-modifying CTEs), so a crash or a concurrent
-- worker sees all of it or none of it, and its cost is one round trip
-- however many jobs match.

-- Moves the queue's history jobs in state (failed or cancelled) that
-- finished at or after since (NULL: any time) back to available, to run now
-- with at least one more attempt allowed - what retry_job does for one job.
-- A job whose unique_key an active job holds stays where it is (so does any
-- but the newest of several history jobs sharing a key). Returns how many
-- were re-driven.
CREATE FUNCTION pane.retry_jobs(queue text, state text, since timestamptz DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	v_n bigint;
BEGIN
	IF retry_jobs.state IS NULL OR retry_jobs.state NOT IN ('failed', 'cancelled') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('pane.retry_jobs: state must be failed or cancelled, not %s', coalesce(retry_jobs.state, 'null'));
	END IF;
	WITH cand AS (
		SELECT DISTINCT ON (coalesce(h.unique_key, h.id::text)) h.id
		FROM pane.jobs_history h
		WHERE h.queue = retry_jobs.queue AND h.state = retry_jobs.state
			AND (retry_jobs.since IS NULL OR h.finished_at >= retry_jobs.since)
			AND (h.unique_key IS NULL OR NOT EXISTS (SELECT 1 FROM pane.jobs j WHERE j.unique_key = h.unique_key))
		ORDER BY coalesce(h.unique_key, h.id::text), h.finished_at DESC, h.id DESC
	), d AS (
		DELETE FROM pane.jobs_history h USING cand WHERE h.id = cand.id RETURNING h.*
	), ins AS (
		INSERT INTO pane.jobs (id, queue, state, payload, priority, attempt, max_attempts, run_at, created_at,
			unique_key, timeout, errors)
		SELECT d.id, d.queue, 'available', d.payload, d.priority, d.attempt, greatest(d.max_attempts, d.attempt + 1),
			now(), d.created_at, d.unique_key, d.timeout, d.errors
		FROM d
		RETURNING 1
	)
	SELECT count(*) INTO v_n FROM ins;
	RETURN v_n;
END
$$;

-- Cancels the queue's active jobs in the given states ('available' covers
-- scheduled and retry-waiting jobs too; 'running' kills their handlers via
-- NOTIFY pane_cancel) created at or after since (NULL: any time). Returns how
-- many were cancelled.
CREATE FUNCTION pane.cancel_jobs(queue text, states text[] DEFAULT ARRAY['available'], since timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	v_n bigint;
BEGIN
	IF cancel_jobs.states IS NULL OR cardinality(cancel_jobs.states) = 0
			OR NOT cancel_jobs.states <@ ARRAY['available', 'running'] THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('pane.cancel_jobs: states must be available and/or running, not %s', cancel_jobs.states);
	END IF;
	WITH d AS (
		DELETE FROM pane.jobs j
		WHERE j.queue = cancel_jobs.queue AND j.state = ANY(cancel_jobs.states)
			AND (cancel_jobs.since IS NULL OR j.created_at >= cancel_jobs.since)
		RETURNING j.*
	), ins AS (
		INSERT INTO pane.jobs_history (id, queue, state, payload, priority, attempt, max_attempts, run_at, created_at,
			started_at, finished_at, unique_key, timeout, locked_by, lease_expires_at, errors, result)
		SELECT d.id, d.queue, 'cancelled', d.payload, d.priority, d.attempt, d.max_attempts, d.run_at, d.created_at,
			d.started_at, now(), d.unique_key, d.timeout, d.locked_by, d.lease_expires_at, d.errors, d.result
		FROM d
		RETURNING 1
	), notified AS (
		SELECT pg_notify('pane_cancel', d.id::text) FROM d WHERE d.state = 'running'
	)
	SELECT (SELECT count(*) FROM ins) + 0 * (SELECT count(*) FROM notified) INTO v_n;
	RETURN v_n;
END
$$;
