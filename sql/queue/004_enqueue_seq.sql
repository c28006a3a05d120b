-- 004_enqueue_seq.sql - pane.enqueue_many looks its id sequence up once.
--
-- 001 called pg_get_serial_sequence('pane.jobs', 'id') for every element of
-- the batch (a catalog lookup per job, about a third of enqueue_many's time
-- for 1,000 jobs: 4-6 ms of 17-25 ms, measured with a rolled-back
-- transaction). The sequence is now resolved once per call into v_seq.
-- Nothing else changes: same arguments, results, validation and errors.

CREATE OR REPLACE FUNCTION pane.enqueue_many(jobs jsonb) RETURNS TABLE(id bigint, created boolean)
LANGUAGE plpgsql AS $$
DECLARE
	v_seq regclass := pg_get_serial_sequence('pane.jobs', 'id')::regclass;
	v_max bigint;
	v_err text;
	v_uniq boolean;
	v_ids bigint[];
	v_created boolean[];
	v_keys text[];
BEGIN
	IF jobs IS NULL OR jsonb_typeof(jobs) <> 'array' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'pane.enqueue_many: jobs must be a JSON array of job objects',
			HINT = 'e.g. [{"queue": "email", "payload": {"to": "a@example.com"}}]';
	END IF;
	IF jsonb_array_length(jobs) = 0 THEN
		RETURN;
	END IF;
	IF jsonb_array_length(jobs) > pane._setting('max_batch', '100000')::int THEN
		RAISE EXCEPTION USING ERRCODE = '54000',
			MESSAGE = format('pane.enqueue_many: %s jobs in one call, over the limit of %s',
				jsonb_array_length(jobs), pane._setting('max_batch', '100000')),
			HINT = 'split the batch (pane.settings max_batch)';
	END IF;
	v_max := pane._setting('max_payload_bytes', '1048576')::bigint;
	BEGIN
		SELECT pane._spec_error(t.e, t.ord, v_max) INTO v_err
		FROM jsonb_array_elements(jobs) WITH ORDINALITY AS t(e, ord)
		WHERE pane._spec_error(t.e, t.ord, v_max) IS NOT NULL
		ORDER BY t.ord LIMIT 1;
	EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR invalid_text_representation
			OR numeric_value_out_of_range OR interval_field_overflow THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'pane.enqueue_many: ' || SQLERRM;
	END;
	IF v_err IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'pane.enqueue_many: ' || v_err;
	END IF;
	v_uniq := EXISTS (SELECT 1 FROM jsonb_array_elements(jobs) t(e)
		WHERE jsonb_typeof(t.e->'unique_key') = 'string');
	BEGIN
		IF NOT v_uniq THEN
			-- fast path: every element becomes a new job, ids in input order
			RETURN QUERY
			WITH src AS (
				SELECT t.ord, t.e, nextval(v_seq) AS nid
				FROM jsonb_array_elements(jobs) WITH ORDINALITY AS t(e, ord)
			), ins AS (
				INSERT INTO pane.jobs (id, queue, payload, run_at, priority, max_attempts, timeout)
				SELECT s.nid, s.e->>'queue', coalesce(s.e->'payload', '{}'),
					coalesce((s.e->>'run_at')::timestamptz, now() + pane._interval(s.e->'delay'), now()),
					coalesce((s.e->>'priority')::int, 0), coalesce((s.e->>'max_attempts')::int, 25),
					pane._interval(s.e->'timeout')
				FROM src s
				RETURNING 1
			)
			SELECT s.nid, true FROM src s ORDER BY s.ord;
			RETURN;
		END IF;
		-- with unique keys: the first element per key is inserted unless an
		-- active job holds the key; later elements with the same key get its id
		WITH src AS (
			SELECT t.ord, t.e, t.e->>'unique_key' AS k,
				nextval(v_seq) AS nid
			FROM jsonb_array_elements(jobs) WITH ORDINALITY AS t(e, ord)
		), firsts AS (
			SELECT DISTINCT ON (coalesce(s.k, s.ord::text || ':'), s.k IS NULL) s.*
			FROM src s ORDER BY coalesce(s.k, s.ord::text || ':'), s.k IS NULL, s.ord
		), ins AS (
			INSERT INTO pane.jobs AS j (id, queue, payload, run_at, priority, max_attempts, unique_key, timeout)
			SELECT f.nid, f.e->>'queue', coalesce(f.e->'payload', '{}'),
				coalesce((f.e->>'run_at')::timestamptz, now() + pane._interval(f.e->'delay'), now()),
				coalesce((f.e->>'priority')::int, 0), coalesce((f.e->>'max_attempts')::int, 25),
				f.k, pane._interval(f.e->'timeout')
			FROM firsts f
			ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING
			RETURNING j.id
		)
		SELECT array_agg(CASE
				WHEN s.k IS NULL THEN s.nid
				WHEN i.id IS NOT NULL THEN i.id
				ELSE NULL END ORDER BY s.ord),
			array_agg(s.k IS NULL OR (s.ord = f.ord AND i.id IS NOT NULL) ORDER BY s.ord),
			array_agg(s.k ORDER BY s.ord)
		INTO v_ids, v_created, v_keys
		FROM src s LEFT JOIN firsts f ON f.k = s.k LEFT JOIN ins i ON i.id = f.nid;
	EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR invalid_text_representation
			OR numeric_value_out_of_range OR interval_field_overflow THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'pane.enqueue_many: ' || SQLERRM;
	END;
	-- keys held by jobs that already existed: look them up with a fresh snapshot
	RETURN QUERY
	SELECT coalesce(u.i, (SELECT j.id FROM pane.jobs j WHERE j.unique_key = u.k)), u.c
	FROM unnest(v_ids, v_created, v_keys) WITH ORDINALITY AS u(i, c, k, ord)
	ORDER BY u.ord;
END
$$;
