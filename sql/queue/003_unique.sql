-- 003_unique.sql - unique keys that outlive completion (River's ByPeriod /
-- ByState).
--
-- pane.enqueue's unique_key holds only among ACTIVE jobs (available,
-- running): the unique index on pane.jobs. enqueue_unique widens that:
--   * by_period: the key is unique per period bucket - the stored key is
--     "<key>@<bucket>" with bucket = floor(epoch(now) / period), so "one
--     report per hour" is unique_key 'report', by_period '1 hour';
--   * by_states: a job with the key in any of these states counts as a
--     duplicate. Active states always do (the index); adding 'completed',
--     'failed' and/or 'cancelled' also looks in pane.jobs_history (as long
--     as retention keeps the row: history_retention, 7 days by default).
-- Concurrent enqueue_unique calls for one key serialise on a transaction
-- advisory lock, so the history check and the insert cannot interleave.
CREATE INDEX jobs_history_unique_key ON pane.jobs_history (unique_key) WHERE unique_key IS NOT NULL;

CREATE FUNCTION pane.enqueue_unique(queue text, payload jsonb, unique_key text, by_period interval DEFAULT NULL,
		by_states text[] DEFAULT ARRAY['available', 'running', 'completed'], run_at timestamptz DEFAULT NULL,
		priority int DEFAULT 0, max_attempts int DEFAULT 25, timeout interval DEFAULT NULL)
RETURNS TABLE(id bigint, created boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
	v_key text;
	v_id bigint;
	v_done text[];
BEGIN
	IF unique_key IS NULL OR unique_key = '' THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'pane.enqueue_unique: unique_key must not be empty';
	END IF;
	IF by_period IS NOT NULL AND by_period <= interval '0' THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'pane.enqueue_unique: by_period must be positive';
	END IF;
	IF by_states IS NULL OR NOT by_states <@ ARRAY['available', 'running', 'completed', 'failed', 'cancelled'] THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('pane.enqueue_unique: by_states must be among available, running, completed, failed, cancelled, not %s', by_states);
	END IF;
	v_key := unique_key;
	IF by_period IS NOT NULL THEN
		v_key := v_key || '@' || floor(extract(epoch FROM now()) / extract(epoch FROM by_period))::bigint;
	END IF;
	PERFORM pg_advisory_xact_lock(hashtext('pane-unique:' || v_key));
	SELECT j.id INTO v_id FROM pane.jobs j WHERE j.unique_key = v_key;
	IF v_id IS NOT NULL THEN
		RETURN QUERY SELECT v_id, false;
		RETURN;
	END IF;
	v_done := ARRAY(SELECT s FROM unnest(by_states) s WHERE s IN ('completed', 'failed', 'cancelled'));
	IF cardinality(v_done) > 0 THEN
		SELECT h.id INTO v_id FROM pane.jobs_history h WHERE h.unique_key = v_key AND h.state = ANY(v_done)
		ORDER BY h.finished_at DESC LIMIT 1;
		IF v_id IS NOT NULL THEN
			RETURN QUERY SELECT v_id, false;
			RETURN;
		END IF;
	END IF;
	v_id := pane.enqueue(queue, payload, run_at, priority, max_attempts, v_key, timeout);
	RETURN QUERY SELECT v_id, true;
END
$$;
