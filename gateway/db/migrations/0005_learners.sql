-- Learners as the consortium knows them: a pseudonymous id, the ESI or a consortium pseudonym, and the
-- members' own ids for them (links). Consent records are immutable; a withdrawal is a row of its own
-- (R21: the app appends a withdrawal, it never edits consent).
CREATE TABLE learners (
    id          uuid PRIMARY KEY,
    ref         text NOT NULL UNIQUE,          -- normalised ESI or consortium pseudonym (contracts.learners)
    kind        text NOT NULL CHECK (kind IN ('esi', 'pseudonym')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE learner_links (
    learner     uuid NOT NULL REFERENCES learners (id),
    member_id   text NOT NULL REFERENCES members (id),
    local_id    text NOT NULL CHECK (length(local_id) BETWEEN 1 AND 200),
    created_by  text NOT NULL,                 -- the client that linked
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (learner, member_id),
    UNIQUE (member_id, local_id)
);

CREATE TABLE learner_consents (
    id                    uuid PRIMARY KEY,
    learner               uuid NOT NULL REFERENCES learners (id),
    recipient             text NOT NULL REFERENCES members (id),   -- who may receive the data
    purpose               text NOT NULL,
    data_categories       text[] NOT NULL,
    consent_text_version  text NOT NULL,
    method                text NOT NULL,
    recorded_by_member    text NOT NULL,      -- the learner's institution that collected the consent
    recorded_by_client    text NOT NULL,
    given_at              timestamptz NOT NULL,
    valid_until           timestamptz NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_until > given_at)
);
CREATE INDEX learner_consents_lookup ON learner_consents (learner, recipient, purpose);

CREATE TABLE learner_consent_withdrawals (
    consent       uuid PRIMARY KEY REFERENCES learner_consents (id),
    withdrawn_at  timestamptz NOT NULL DEFAULT now(),
    withdrawn_by_member text NOT NULL,
    withdrawn_by_client text NOT NULL
);

CREATE FUNCTION learner_consents_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER learner_consents_no_update BEFORE UPDATE OR DELETE ON learner_consents
    FOR EACH ROW EXECUTE FUNCTION learner_consents_immutable();
CREATE TRIGGER learner_consent_withdrawals_no_update BEFORE UPDATE OR DELETE ON learner_consent_withdrawals
    FOR EACH ROW EXECUTE FUNCTION learner_consents_immutable();
