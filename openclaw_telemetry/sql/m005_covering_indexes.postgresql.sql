DROP INDEX IF EXISTS ix_messages_model;
CREATE INDEX IF NOT EXISTS ix_messages_model_session ON messages (model, timestamp, session_id);
DROP INDEX IF EXISTS ix_tool_calls_name;
CREATE INDEX IF NOT EXISTS ix_tool_calls_name_outcome ON tool_calls (tool_name, timestamp, session_id, is_error)
