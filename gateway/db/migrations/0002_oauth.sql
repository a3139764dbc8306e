-- OAuth: member clients, single-use client-assertion ids, the gateway's signing keys, revocations.

-- Clients are declared per member in the consortium file; `member_id` is the institution every token
-- issued to the client speaks for (R7). `not_before` revokes every token issued before it (institution
-- change, client disabled).
CREATE TABLE oauth_clients (
    client_id    text PRIMARY KEY,
    member_id    text NOT NULL REFERENCES members (id),
    jwks         jsonb,
    jwks_uri     text,
    scopes       text[] NOT NULL,
    capabilities text[] NOT NULL DEFAULT '{}',
    status       text NOT NULL CHECK (status IN ('active', 'disabled')),
    not_before   timestamptz NOT NULL DEFAULT '1970-01-01T00:00:00Z',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((jwks IS NULL) <> (jwks_uri IS NULL))
);
CREATE INDEX oauth_clients_member ON oauth_clients (member_id);

-- R4: each client-assertion `jti` is accepted once. Rows live until the assertion could no longer be
-- valid anyway (its `exp` plus leeway), then the purge removes them.
CREATE TABLE oauth_assertion_jtis (
    client_id  text NOT NULL,
    jti        text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX oauth_assertion_jtis_expiry ON oauth_assertion_jtis (expires_at);

-- The gateway's own keys: public halves here, private halves in files (0600) under the keys directory,
-- never in the database (R12). One key per purpose is `active`; `next` is published before use;
-- `retired` stays published until the tokens it signed have expired.
CREATE TABLE gateway_signing_keys (
    kid          text PRIMARY KEY,
    purpose      text NOT NULL CHECK (purpose IN ('access-token', 'client-assertion', 'webhook')),
    alg          text NOT NULL,
    public_jwk   jsonb NOT NULL,
    state        text NOT NULL CHECK (state IN ('next', 'active', 'retired')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    activated_at timestamptz,
    retired_at   timestamptz
);
CREATE UNIQUE INDEX gateway_signing_keys_one_active ON gateway_signing_keys (purpose) WHERE state = 'active';

-- R9: revoked access tokens, by `jti`, until they would have expired anyway.
CREATE TABLE oauth_revoked_tokens (
    jti        text PRIMARY KEY,
    client_id  text NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth_revoked_tokens_expiry ON oauth_revoked_tokens (expires_at);
