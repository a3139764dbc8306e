-- The append-only tables by privilege as well as by trigger (R21, R22): the application role may read and
-- append audit entries, consents and withdrawals, and nothing more. The triggers of 0004 and 0005 stay:
-- they also hold for the tables' owner, unless switched off (which the audit chain's verifier catches).
REVOKE UPDATE, DELETE, TRUNCATE ON audit_entries, learner_consents, learner_consent_withdrawals
    FROM consortium_gateway_app;
