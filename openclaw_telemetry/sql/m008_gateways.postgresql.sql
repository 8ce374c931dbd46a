ALTER TABLE sessions ADD COLUMN gateway VARCHAR;

UPDATE sessions SET gateway = :gateway;

ALTER TABLE sessions ALTER COLUMN gateway SET NOT NULL;

ALTER TABLE sessions DROP CONSTRAINT sessions_pkey;

ALTER TABLE sessions ADD CONSTRAINT pk_sessions PRIMARY KEY (session_id, gateway);

ALTER TABLE messages ADD COLUMN gateway VARCHAR;

UPDATE messages SET gateway = :gateway;

ALTER TABLE messages ALTER COLUMN gateway SET NOT NULL;

ALTER TABLE messages DROP CONSTRAINT messages_pkey;

ALTER TABLE messages ADD CONSTRAINT pk_messages PRIMARY KEY (message_id, gateway);

ALTER TABLE message_occurrences ADD COLUMN gateway VARCHAR;

UPDATE message_occurrences SET gateway = :gateway;

ALTER TABLE message_occurrences ALTER COLUMN gateway SET NOT NULL;

ALTER TABLE pending_keys ADD COLUMN gateway VARCHAR;

UPDATE pending_keys SET gateway = :gateway;

ALTER TABLE pending_keys ALTER COLUMN gateway SET NOT NULL;

ALTER TABLE pending_keys DROP CONSTRAINT pending_keys_pkey;

ALTER TABLE pending_keys ADD CONSTRAINT pk_pending_keys PRIMARY KEY (message_id, gateway);

ALTER TABLE tool_calls ADD COLUMN gateway VARCHAR;

UPDATE tool_calls SET gateway = :gateway;

ALTER TABLE tool_calls ALTER COLUMN gateway SET NOT NULL;

ALTER TABLE tool_results ADD COLUMN gateway VARCHAR;

UPDATE tool_results SET gateway = :gateway;

ALTER TABLE tool_results ALTER COLUMN gateway SET NOT NULL;

ALTER TABLE session_events ADD COLUMN gateway VARCHAR;

UPDATE session_events SET gateway = :gateway;

ALTER TABLE session_events ALTER COLUMN gateway SET NOT NULL;

ALTER TABLE sources ADD COLUMN gateway VARCHAR;

UPDATE sources SET gateway = :gateway;

ALTER TABLE sources ALTER COLUMN gateway SET NOT NULL;

ALTER TABLE session_attribution ADD COLUMN gateway VARCHAR;

UPDATE session_attribution SET gateway = :gateway;

ALTER TABLE session_attribution ALTER COLUMN gateway SET NOT NULL;

ALTER TABLE session_attribution DROP CONSTRAINT session_attribution_pkey;

ALTER TABLE session_attribution ADD CONSTRAINT pk_session_attribution PRIMARY KEY (session_id, gateway);

ALTER TABLE cron_jobs ADD COLUMN gateway VARCHAR;

UPDATE cron_jobs SET gateway = :gateway;

ALTER TABLE cron_jobs ALTER COLUMN gateway SET NOT NULL;

ALTER TABLE cron_jobs DROP CONSTRAINT cron_jobs_pkey;

ALTER TABLE cron_jobs ADD CONSTRAINT pk_cron_jobs PRIMARY KEY (job_id, gateway);

ALTER TABLE ingest_runs ADD COLUMN gateway VARCHAR;

UPDATE ingest_runs SET gateway = :gateway;

ALTER TABLE ingest_runs ALTER COLUMN gateway SET NOT NULL;

ALTER TABLE tool_calls DROP CONSTRAINT uq_tool_calls_message_index;

ALTER TABLE tool_calls ADD CONSTRAINT uq_tool_calls_message_index UNIQUE (message_id, gateway, call_index);

ALTER TABLE tool_results DROP CONSTRAINT uq_tool_results_answer;

ALTER TABLE tool_results ADD CONSTRAINT uq_tool_results_answer UNIQUE (gateway, session_id, tool_call_id, timestamp);

ALTER TABLE sources DROP CONSTRAINT sources_path_key;

ALTER TABLE sources ADD CONSTRAINT uq_sources_path UNIQUE (gateway, path);

DROP TABLE usage_quarter_hours;

CREATE TABLE usage_quarter_hours (
	bucket TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	gateway VARCHAR NOT NULL, 
	agent VARCHAR NOT NULL, 
	model VARCHAR NOT NULL, 
	provider VARCHAR NOT NULL, 
	kind VARCHAR, 
	calls INTEGER NOT NULL, 
	errors INTEGER NOT NULL, 
	input BIGINT NOT NULL, 
	output BIGINT NOT NULL, 
	cache_read BIGINT NOT NULL, 
	cache_write BIGINT NOT NULL, 
	cost FLOAT NOT NULL, 
	estimated_cost FLOAT NOT NULL, 
	unpriced_calls INTEGER NOT NULL, 
	unpriced_tokens BIGINT NOT NULL, 
	subscription_cost FLOAT NOT NULL, 
	tool_calls INTEGER NOT NULL
);

CREATE INDEX ix_usage_bucket ON usage_quarter_hours (bucket);

DELETE FROM meta WHERE key LIKE 'learned:%';

INSERT INTO usage_quarter_hours (bucket, gateway, agent, model, provider, kind, calls, errors, input, output, cache_read, cache_write, cost, estimated_cost, unpriced_calls, unpriced_tokens, subscription_cost, tool_calls) SELECT date_trunc('hour', messages.timestamp) + floor(EXTRACT(minute FROM messages.timestamp) / CAST(15 AS NUMERIC)) * 15 * INTERVAL '1 minute' AS anon_1, messages.gateway, coalesce(messages.agent_id, '(none)') AS agent, coalesce(messages.model, '(none)') AS model, coalesce(messages.provider, '(none)') AS provider, sessions.kind, count(*) AS calls, coalesce(sum(CAST(messages.is_error AS INTEGER)), 0) AS errors, coalesce(sum(messages.input_tokens), 0) AS input, coalesce(sum(messages.output_tokens), 0) AS output, coalesce(sum(messages.cache_read_tokens), 0) AS cache_read, coalesce(sum(messages.cache_write_tokens), 0) AS cache_write, coalesce(sum(messages.cost), 0) AS cost, coalesce(sum(messages.cost * CASE WHEN (messages.cost_source = 'estimated') THEN 1 ELSE 0 END), 0) AS estimated_cost, coalesce(sum(CASE WHEN (messages.cost_source = 'unpriced') THEN 1 ELSE 0 END), 0) AS unpriced_calls, coalesce(sum((messages.input_tokens + messages.output_tokens + messages.cache_read_tokens + messages.cache_write_tokens) * CASE WHEN (messages.cost_source = 'unpriced') THEN 1 ELSE 0 END), 0) AS unpriced_tokens, coalesce(sum(messages.cost * CAST(messages.subscription AS INTEGER)), 0) AS subscription_cost, coalesce(sum(messages.tool_call_count), 0) AS tool_calls 
FROM messages LEFT OUTER JOIN sessions ON sessions.session_id = messages.session_id AND sessions.gateway = messages.gateway GROUP BY 1, 2, 3, 4, 5, 6;
