DROP INDEX IF EXISTS ix_messages_timestamp;
CREATE INDEX ix_messages_timestamp ON messages (timestamp, cost);
DROP INDEX IF EXISTS ix_messages_session;
CREATE INDEX ix_messages_session ON messages (session_id, gateway, timestamp, cost);
DROP INDEX IF EXISTS ix_messages_model_session;
CREATE INDEX ix_messages_model_session ON messages (model, session_id, gateway, timestamp);
DROP INDEX IF EXISTS ix_tool_calls_name_outcome;
CREATE INDEX ix_tool_calls_name_outcome ON tool_calls (tool_name, session_id, gateway, timestamp, is_error)
