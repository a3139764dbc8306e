-- Append-only, hash-chained audit log (R22). Entries belong to a stream (one mobility request, one
-- learner's accesses, ...); each stream is a chain: hash = sha256(prev_hash || canonical(entry)). A
-- stream's head (last seq and hash) is kept beside it, so losing the tail of a chain is caught too.
-- Streams, not one global chain: writers of different streams never wait for each other.
CREATE TABLE audit_entries (
    stream            text NOT NULL CHECK (length(stream) BETWEEN 1 AND 200),
    seq               bigint NOT NULL CHECK (seq >= 1),
    at                timestamptz NOT NULL,
    action            text NOT NULL,
    actor_institution text NOT NULL,
    actor_client      text NOT NULL,
    actor_sub         text,
    learner           uuid,                 -- the consortium's pseudonymous learner id, never an ESI
    resource          text NOT NULL,
    purpose           text,
    outcome           text NOT NULL,
    trace_id          text,
    details           jsonb NOT NULL DEFAULT '{}'::jsonb,   -- ids and codes only, no personal data
    prev_hash         bytea NOT NULL,
    hash              bytea NOT NULL,
    PRIMARY KEY (stream, seq)
);
CREATE INDEX audit_entries_learner ON audit_entries (learner, at) WHERE learner IS NOT NULL;

CREATE TABLE audit_heads (
    stream text PRIMARY KEY,
    seq    bigint NOT NULL,
    hash   bytea NOT NULL
);

-- The app may only append: UPDATE, DELETE and TRUNCATE of entries raise (the chain would catch them
-- anyway; this stops them happening by accident).
CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_entries is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_entries_no_update BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only();

-- One call appends one entry: usable inside a writer's own statement (a CTE), so the business change and
-- its audit entry commit together in one round trip. The canonical form is a JSON array rendered by
-- jsonb; gateway.audit.verify rebuilds it independently in Python.
CREATE FUNCTION audit_append(
    p_stream text, p_action text, p_institution text, p_client text, p_sub text, p_learner uuid,
    p_resource text, p_purpose text, p_outcome text, p_trace_id text, p_details jsonb
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_seq  bigint;
    v_prev bytea;
    v_at   timestamptz := date_trunc('milliseconds', clock_timestamp());
    v_hash bytea;
BEGIN
    INSERT INTO audit_heads (stream, seq, hash) VALUES (p_stream, 0, '\x'::bytea)
        ON CONFLICT (stream) DO NOTHING;
    SELECT seq + 1, hash INTO v_seq, v_prev FROM audit_heads WHERE stream = p_stream FOR UPDATE;
    v_hash := sha256(v_prev || convert_to(jsonb_build_array(
        p_stream, v_seq, to_char(v_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        p_action, p_institution, p_client, p_sub, p_learner, p_resource, p_purpose, p_outcome,
        p_trace_id, coalesce(p_details, '{}'::jsonb))::text, 'UTF8'));
    INSERT INTO audit_entries (stream, seq, at, action, actor_institution, actor_client, actor_sub, learner,
                               resource, purpose, outcome, trace_id, details, prev_hash, hash)
    VALUES (p_stream, v_seq, v_at, p_action, p_institution, p_client, p_sub, p_learner, p_resource,
            p_purpose, p_outcome, p_trace_id, coalesce(p_details, '{}'::jsonb), v_prev, v_hash);
    UPDATE audit_heads SET seq = v_seq, hash = v_hash WHERE stream = p_stream;
    RETURN v_seq;
END $$;
