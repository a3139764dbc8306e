-- The canonical form of an audit entry, defined once: audit_append (for streams that may exist) and the
-- writers that start a stream inside their own statement (gateway.audit.first_entry_sql) both hash with
-- it. A plain SQL function, so the planner inlines it where it is called.
--
-- Why writers start a stream themselves: a mobility request's first entry is always the first of its
-- stream (the stream is named after the request's fresh id). Calling audit_append for it ran a PL/pgSQL
-- function with three statements of its own; two inserts in the writer's statement do the same work, and
-- measured about a tenth of the creation's database CPU less (docs/benchmarks.md, W6).
CREATE FUNCTION audit_hash(
    p_prev bytea, p_stream text, p_seq bigint, p_at timestamptz, p_action text, p_institution text,
    p_client text, p_sub text, p_learner uuid, p_resource text, p_purpose text, p_outcome text,
    p_trace_id text, p_details jsonb
) RETURNS bytea LANGUAGE sql STABLE AS $$
    SELECT sha256(p_prev || convert_to(jsonb_build_array(
        p_stream, p_seq, to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        p_action, p_institution, p_client, p_sub, p_learner, p_resource, p_purpose, p_outcome,
        p_trace_id, coalesce(p_details, '{}'::jsonb))::text, 'UTF8'))
$$;

CREATE OR REPLACE FUNCTION audit_append(
    p_stream text, p_action text, p_institution text, p_client text, p_sub text, p_learner uuid,
    p_resource text, p_purpose text, p_outcome text, p_trace_id text, p_details jsonb
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_seq   bigint;
    v_prev  bytea;
    v_at    timestamptz := date_trunc('milliseconds', clock_timestamp());
    v_hash  bytea;
    v_first boolean := false;
BEGIN
    SELECT seq + 1, hash INTO v_seq, v_prev FROM audit_heads WHERE stream = p_stream FOR UPDATE;
    IF NOT FOUND THEN
        v_seq := 1;
        v_prev := '\x'::bytea;
        v_first := true;
    END IF;
    LOOP
        v_hash := audit_hash(v_prev, p_stream, v_seq, v_at, p_action, p_institution, p_client, p_sub,
                             p_learner, p_resource, p_purpose, p_outcome, p_trace_id, p_details);
        IF NOT v_first THEN
            UPDATE audit_heads SET seq = v_seq, hash = v_hash WHERE stream = p_stream;
            EXIT;
        END IF;
        INSERT INTO audit_heads (stream, seq, hash) VALUES (p_stream, 1, v_hash) ON CONFLICT (stream) DO NOTHING;
        EXIT WHEN FOUND;
        -- Another transaction created the stream first (and has committed: the insert waited for it).
        SELECT seq + 1, hash INTO STRICT v_seq, v_prev FROM audit_heads WHERE stream = p_stream FOR UPDATE;
        v_first := false;
    END LOOP;
    INSERT INTO audit_entries (stream, seq, at, action, actor_institution, actor_client, actor_sub, learner,
                               resource, purpose, outcome, trace_id, details, prev_hash, hash)
    VALUES (p_stream, v_seq, v_at, p_action, p_institution, p_client, p_sub, p_learner, p_resource,
            p_purpose, p_outcome, p_trace_id, coalesce(p_details, '{}'::jsonb), v_prev, v_hash);
    RETURN v_seq;
END $$;
