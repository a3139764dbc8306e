-- Decided requests close by themselves once their appeal window has ended (gateway.mobility.closing).
-- The closer looks for them every minute or so: this index holds decided requests only, by the end of
-- their window, so the look is one short index range however many requests have ever been closed.
CREATE INDEX mobility_requests_appeal_ends ON mobility_requests (appeal_until) WHERE state = 'decided';
