-- The consortium registry: one row per member institution, synced from the consortium file.
CREATE TABLE members (
    id                 text PRIMARY KEY,          -- schacHomeOrganization, e.g. uni-a.ac.uk
    name               text NOT NULL,
    country            char(2) NOT NULL,
    framework_id       text NOT NULL,
    connector_id       text NOT NULL,
    connector_settings jsonb NOT NULL DEFAULT '{}'::jsonb,
    endpoints          jsonb NOT NULL DEFAULT '{}'::jsonb,
    jwks               jsonb,
    jwks_uri           text,
    webhook_url        text,
    status             text NOT NULL CHECK (status IN ('active', 'suspended', 'withdrawn')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (jwks IS NULL OR jwks_uri IS NULL)
);

