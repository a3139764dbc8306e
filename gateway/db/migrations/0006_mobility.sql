-- Learner mobility / credit-transfer requests (issue 7): the workflow, idempotency keys (R29), the event
-- outbox (R30) with per-member webhook deliveries and dead letters.
--
-- Every write of the workflow is ONE statement (a CTE, gateway/mobility/store.py): the request change, its
-- items or decisions, its audit entry (audit_append, 0004), its event and deliveries, and the idempotency
-- record commit together or not at all (R22, R30, R33).

-- One row per request. `document` is the API representation as last written (the body a GET returns);
-- the columns beside it are what queries filter on and what constraints check. `learner_ref`,
-- `home_member`, `host_member` and `state` are read by the federated lookup's lawful-basis check ("an
-- open mobility request between the caller's institution and the learner").
CREATE TABLE mobility_requests (
    id            uuid PRIMARY KEY,
    learner_ref   text NOT NULL CHECK (length(learner_ref) BETWEEN 1 AND 255),
    home_member   text NOT NULL REFERENCES members (id),
    host_member   text NOT NULL REFERENCES members (id),
    state         text NOT NULL CHECK (state IN ('submitted', 'under_review', 'info_requested', 'decided',
                                                 'appealed', 'withdrawn', 'closed')),
    outcome       text CHECK (outcome IN ('approved', 'partially_approved', 'rejected')),
    version       integer NOT NULL CHECK (version >= 1),
    round         smallint NOT NULL DEFAULT 1 CHECK (round IN (1, 2)),   -- 2 after the one appeal
    purpose       text NOT NULL,
    assigned_to   text,
    due_at        timestamptz,            -- the SLA date of the next step (NULL once nothing is due)
    appeal_until  timestamptz,
    created_by    text NOT NULL,          -- client_id
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    document      json NOT NULL,          -- as written (json, not jsonb): read back byte for byte, never
                                          -- queried inside
    CHECK (home_member <> host_member),
    CHECK (state <> 'decided' OR outcome IS NOT NULL)
);
-- The queue view: a member's requests by state and due date, in id order for keyset pagination.
CREATE INDEX mobility_requests_host ON mobility_requests (host_member, state, due_at);
CREATE INDEX mobility_requests_home ON mobility_requests (home_member, state, due_at);
CREATE INDEX mobility_requests_learner ON mobility_requests (learner_ref);

-- The credentials to transfer, one row per item, with the pre-evaluation's outcome (the record used for the
-- evaluation and its explanation are in the request's document).
CREATE TABLE mobility_items (
    request_id     uuid NOT NULL REFERENCES mobility_requests (id),
    position       smallint NOT NULL CHECK (position >= 0),
    credential_id  text NOT NULL,
    evaluated      text NOT NULL CHECK (evaluated IN ('recognised', 'partially_recognised', 'not_recognised',
                                                      'needs_review')),
    PRIMARY KEY (request_id, position),
    UNIQUE (request_id, credential_id)
);

-- A registrar's decision per item per review round: the primary key is the "at most one final decision per
-- round" invariant, held by the database.
CREATE TABLE mobility_decisions (
    request_id   uuid NOT NULL,
    round        smallint NOT NULL,
    position     smallint NOT NULL,
    decision     text NOT NULL CHECK (decision IN ('granted', 'partially_granted', 'refused')),
    reason_code  text CHECK (reason_code IN ('subject', 'level', 'currency', 'quality_assurance', 'grade',
                                             'other')),
    credits      numeric,
    decided_by   text NOT NULL,
    decided_at   timestamptz NOT NULL,
    PRIMARY KEY (request_id, round, position),
    FOREIGN KEY (request_id, position) REFERENCES mobility_items (request_id, position)
);

-- Idempotency keys (R29): scope (client_id, key); the fingerprint of the request and the response given,
-- written in the same statement as the effect. Kept at least 24 h (purged by the relay's housekeeping).
CREATE TABLE idempotency_keys (
    client_id    text NOT NULL,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint  bytea NOT NULL,
    status       smallint NOT NULL,
    headers      jsonb NOT NULL DEFAULT '{}'::jsonb,
    body         text NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (client_id, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- The event log and outbox (R30). Thin events, ids only (R20). `seq` orders them for GET /v1/events;
-- `txid` lets a poller skip nothing: rows of transactions still in progress are held back, since their
-- `seq` may be lower than rows already committed.
CREATE TABLE events (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           uuid NOT NULL UNIQUE,                -- webhook-id: the same on every delivery attempt
    type         text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    members      text[] NOT NULL,                     -- who may see it (the request's parties)
    payload      jsonb NOT NULL,
    txid         xid8 NOT NULL DEFAULT pg_current_xact_id()
);
-- No index on `members`: polls walk `seq` forward from a cursor (the primary key) and filter; a GIN index
-- would cost every write more than it saves a poll.

-- One delivery per event per member with a webhook URL. The relay claims due rows with FOR UPDATE SKIP
-- LOCKED and leases them (next_attempt_at moves forward), so a relay that dies mid-delivery only delays.
CREATE TABLE webhook_deliveries (
    event_id         uuid NOT NULL REFERENCES events (id),
    member           text NOT NULL,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_status      integer,
    last_error       text,                 -- a short code (status, timeout, redirect, ...), never a body
    delivered_at     timestamptz,
    dead_at          timestamptz,
    PRIMARY KEY (event_id, member)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_dead ON webhook_deliveries (dead_at) WHERE state = 'dead';

-- A member's webhook endpoint disabled by a 410 Gone (R30). It stays disabled for that URL; registering
-- another URL in the consortium file, or `webhooks enable`, turns deliveries back on.
CREATE TABLE webhook_endpoints_disabled (
    member       text PRIMARY KEY,
    url          text NOT NULL,
    reason       text NOT NULL,
    disabled_at  timestamptz NOT NULL DEFAULT now()
);
