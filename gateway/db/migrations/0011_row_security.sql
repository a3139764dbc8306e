-- Row-level security on the mobility workflow (R14, defence in depth): a member sees only the requests it
-- is party to, and their items, decisions and events, even through a query that forgot its own
-- "AND (home_member = $institution OR host_member = $institution)".
--
-- The gateway's pooled connections work as the role consortium_gateway_app (SET ROLE when they are
-- opened, gateway.db.pool) and name their institution in the setting app.institution (gateway.db.tenancy):
-- a member id, or '*' for the gateway's own work across members (a batch of creations from several
-- members, the webhook relay, the closer). Unset or empty, nothing is visible. The tables' owner (who runs
-- migrations and the operator's commands) is not subject to these policies.
-- Roles belong to the whole server: another database of it may have created this one already, or be
-- creating it now (its migration lock is not ours).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'consortium_gateway_app') THEN
        CREATE ROLE consortium_gateway_app NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
GRANT consortium_gateway_app TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO consortium_gateway_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO consortium_gateway_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO consortium_gateway_app;
-- Tables and sequences of later migrations (created by the same owner) are the app's to use as well.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO consortium_gateway_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO consortium_gateway_app;

-- The institution a connection works for; NULL when unset.
CREATE FUNCTION gateway_institution() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('app.institution', true), '') $$;

ALTER TABLE mobility_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY party ON mobility_requests
    USING (gateway_institution() IN ('*', home_member, host_member));

-- Items and decisions are visible with their request (the subquery is itself under the policy above).
-- '*' first: a creation writes its request and items in one statement, whose parts do not see each
-- other's rows, so the subquery would not find the request being created.
ALTER TABLE mobility_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY party ON mobility_items
    USING (gateway_institution() = '*' OR EXISTS (SELECT 1 FROM mobility_requests r WHERE r.id = request_id));

ALTER TABLE mobility_decisions ENABLE ROW LEVEL SECURITY;
CREATE POLICY party ON mobility_decisions
    USING (gateway_institution() = '*' OR EXISTS (SELECT 1 FROM mobility_requests r WHERE r.id = request_id));

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
CREATE POLICY party ON events
    USING (gateway_institution() = '*' OR gateway_institution() = ANY (members));
