-- Mobility documents (the API representation, 2-3 kB for a typical request) and the stored responses of
-- idempotency keys are written once and read back whole. Above about 2 kB PostgreSQL compressed them with
-- pglz on every write: the largest single cost of a creation in the database. Rows up to a page now stay
-- inline and uncompressed; larger ones are still compressed and moved out of line as before.
ALTER TABLE mobility_requests SET (toast_tuple_target = 8160);
ALTER TABLE idempotency_keys SET (toast_tuple_target = 8160);
