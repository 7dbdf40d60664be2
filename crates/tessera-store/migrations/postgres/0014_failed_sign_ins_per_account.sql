-- The account of a failed attempt (when the email named one), so that the risk engine counts
-- real failures per account within its window — not the lockout counter, which also counts
-- attempts still in flight.
ALTER TABLE failed_sign_ins ADD COLUMN user_id UUID;
CREATE INDEX failed_sign_ins_user ON failed_sign_ins (tenant_id, user_id, at);
