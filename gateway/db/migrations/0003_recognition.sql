-- Recognition agreements and equivalences: every change is a new version; old decisions keep pointing at
-- the version they used. The whole version is kept as a document (the engine's input), with the columns
-- that queries filter on beside it.
CREATE TABLE recognition_agreements (
    id          text NOT NULL,
    version     int NOT NULL CHECK (version >= 1),
    document    jsonb NOT NULL,
    parties     text[] NOT NULL,              -- the two members; empty for consortium-wide agreements
    consortium_wide boolean NOT NULL,
    valid_from  date NOT NULL,
    valid_to    date,
    status      text NOT NULL CHECK (status IN ('draft', 'active', 'suspended', 'withdrawn')),
    created_by  text NOT NULL,                -- the client that wrote this version
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, version),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX recognition_agreements_parties ON recognition_agreements USING gin (parties);

CREATE TABLE recognition_equivalences (
    id          text NOT NULL,
    version     int NOT NULL CHECK (version >= 1),
    document    jsonb NOT NULL,
    issuer      text NOT NULL,
    recogniser  text NOT NULL,
    valid_from  date NOT NULL,
    valid_to    date,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, version),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX recognition_equivalences_recogniser ON recognition_equivalences (recogniser);

-- Bumped by every write, so each process knows when to rebuild its engine (one cheap read per request).
CREATE TABLE recognition_revision (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    revision  bigint NOT NULL
);
INSERT INTO recognition_revision VALUES (true, 0);
