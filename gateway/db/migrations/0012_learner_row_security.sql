-- Row-level security on the learner tables (R14, defence in depth), as 0011 does for the mobility
-- workflow: a member's connection (app.institution = its id) sees the learners it has linked, its own
-- links and those learners' consents, even through a query that forgot its "AND member_id = $caller".
-- Nothing without an institution named.
--
-- The gateway's own work across members names '*': a lookup's lawful-basis check reads every member's
-- link for the learner (the fan-out asks each member by its own id for them), and records the links the
-- members' answers revealed; a credential's basis is found through its issuer's link. There the check in
-- code (a live consent or an open mobility request, R21) is what guards the learner's data.

ALTER TABLE learner_links ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON learner_links
    USING (gateway_institution() IN ('*', member_id));

-- A learner is visible to the members that linked them (the subquery is itself under the policy above).
ALTER TABLE learners ENABLE ROW LEVEL SECURITY;
CREATE POLICY linked ON learners FOR SELECT
    USING (gateway_institution() = '*' OR EXISTS (SELECT 1 FROM learner_links k WHERE k.learner = id));
CREATE POLICY gateway ON learners
    USING (gateway_institution() = '*');

-- A member about to link a learner must find the one the consortium already knows by that reference
-- (another member may have linked them) without seeing them first: the one way in, run as the tables'
-- owner, returns only the id, which shows nothing by itself (every table that holds something about the
-- learner keys on it under its own policy).
CREATE FUNCTION gateway_enrol_learner(new_id uuid, learner_ref text, learner_kind text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
DECLARE
    found uuid;
BEGIN
    INSERT INTO learners (id, ref, kind) VALUES (new_id, learner_ref, learner_kind)
    ON CONFLICT (ref) DO NOTHING
    RETURNING id INTO found;
    IF found IS NULL THEN
        SELECT l.id INTO found FROM learners l WHERE l.ref = learner_ref;
    END IF;
    RETURN found;
END
$$;
REVOKE ALL ON FUNCTION gateway_enrol_learner(uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gateway_enrol_learner(uuid, text, text) TO consortium_gateway_app;

-- Consents are visible to, and recorded by, the members that linked the learner; withdrawals with them.
ALTER TABLE learner_consents ENABLE ROW LEVEL SECURITY;
CREATE POLICY linked ON learner_consents
    USING (gateway_institution() = '*'
           OR EXISTS (SELECT 1 FROM learner_links k WHERE k.learner = learner_consents.learner));

ALTER TABLE learner_consent_withdrawals ENABLE ROW LEVEL SECURITY;
CREATE POLICY linked ON learner_consent_withdrawals
    USING (gateway_institution() = '*' OR EXISTS (SELECT 1 FROM learner_consents c WHERE c.id = consent));
