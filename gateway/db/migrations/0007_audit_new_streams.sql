-- audit_append without the round trip through audit_heads for a stream's first entry. Most streams are
-- new when first written (one per mobility request), and the first version inserted an empty head, locked
-- it and updated it: three row versions where one will do. A stream that exists is appended to as before,
-- under its head's row lock. Two writers creating one stream at once: the second's insert waits for the
-- first and finds the conflict, then appends after it under the lock.
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
        v_hash := sha256(v_prev || convert_to(jsonb_build_array(
            p_stream, v_seq, to_char(v_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            p_action, p_institution, p_client, p_sub, p_learner, p_resource, p_purpose, p_outcome,
            p_trace_id, coalesce(p_details, '{}'::jsonb))::text, 'UTF8'));
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
