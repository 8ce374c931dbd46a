CREATE TABLE sessions_m008 (
	session_id VARCHAR NOT NULL, 
	gateway VARCHAR NOT NULL, 
	agent_id VARCHAR, 
	session_key VARCHAR, 
	kind VARCHAR DEFAULT 'unknown' NOT NULL, 
	start_time DATETIME, 
	end_time DATETIME, 
	model VARCHAR, 
	provider VARCHAR, 
	thinking_level VARCHAR, 
	total_messages INTEGER DEFAULT '0' NOT NULL, 
	total_tool_calls INTEGER DEFAULT '0' NOT NULL, 
	total_input_tokens BIGINT DEFAULT '0' NOT NULL, 
	total_output_tokens BIGINT DEFAULT '0' NOT NULL, 
	total_cache_read_tokens BIGINT DEFAULT '0' NOT NULL, 
	total_cache_write_tokens BIGINT DEFAULT '0' NOT NULL, 
	total_cost FLOAT DEFAULT '0' NOT NULL, 
	total_errors INTEGER DEFAULT '0' NOT NULL, 
	estimated_cost FLOAT DEFAULT '0' NOT NULL, 
	unpriced_calls INTEGER DEFAULT '0' NOT NULL, 
	cron_job_id VARCHAR, 
	cron_job_name VARCHAR, 
	parent_session_key VARCHAR, 
	parent_session_id VARCHAR, 
	channel VARCHAR, 
	label VARCHAR, 
	spawn_depth INTEGER, 
	updated_at DATETIME, 
	dirty BOOLEAN DEFAULT '0' NOT NULL, 
	CONSTRAINT pk_sessions PRIMARY KEY (session_id, gateway)
);

INSERT INTO sessions_m008 (session_id, gateway, agent_id, session_key, kind, start_time, end_time, model, provider, thinking_level, total_messages, total_tool_calls, total_input_tokens, total_output_tokens, total_cache_read_tokens, total_cache_write_tokens, total_cost, total_errors, estimated_cost, unpriced_calls, cron_job_id, cron_job_name, parent_session_key, parent_session_id, channel, label, spawn_depth, updated_at, dirty) SELECT session_id, :gateway, agent_id, session_key, kind, start_time, end_time, model, provider, thinking_level, total_messages, total_tool_calls, total_input_tokens, total_output_tokens, total_cache_read_tokens, total_cache_write_tokens, total_cost, total_errors, estimated_cost, unpriced_calls, cron_job_id, cron_job_name, parent_session_key, parent_session_id, channel, label, spawn_depth, updated_at, dirty FROM sessions;

DROP TABLE sessions;

ALTER TABLE sessions_m008 RENAME TO sessions;

CREATE INDEX ix_sessions_agent ON sessions (agent_id);

CREATE INDEX ix_sessions_cost ON sessions (total_cost);

CREATE INDEX ix_sessions_dirty ON sessions (dirty);

CREATE INDEX ix_sessions_key ON sessions (session_key);

CREATE INDEX ix_sessions_kind ON sessions (kind);

CREATE INDEX ix_sessions_start_time ON sessions (start_time);

CREATE TABLE messages_m008 (
	message_id VARCHAR NOT NULL, 
	gateway VARCHAR NOT NULL, 
	session_id VARCHAR NOT NULL, 
	agent_id VARCHAR, 
	timestamp DATETIME NOT NULL, 
	role VARCHAR DEFAULT 'assistant' NOT NULL, 
	model VARCHAR, 
	provider VARCHAR, 
	api VARCHAR, 
	input_tokens BIGINT DEFAULT '0' NOT NULL, 
	output_tokens BIGINT DEFAULT '0' NOT NULL, 
	cache_read_tokens BIGINT DEFAULT '0' NOT NULL, 
	cache_write_tokens BIGINT DEFAULT '0' NOT NULL, 
	total_tokens BIGINT DEFAULT '0' NOT NULL, 
	cost FLOAT DEFAULT '0' NOT NULL, 
	cost_source VARCHAR NOT NULL, 
	recorded_cost FLOAT, 
	stop_reason VARCHAR, 
	is_error BOOLEAN DEFAULT '0' NOT NULL, 
	error_message TEXT, 
	response_id VARCHAR, 
	response_model VARCHAR, 
	latency_ms INTEGER, 
	subscription BOOLEAN DEFAULT '0' NOT NULL, 
	entry_id VARCHAR, 
	source_id INTEGER, 
	tool_call_count INTEGER DEFAULT '0' NOT NULL, 
	CONSTRAINT pk_messages PRIMARY KEY (message_id, gateway)
);

INSERT INTO messages_m008 (message_id, gateway, session_id, agent_id, timestamp, role, model, provider, api, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, total_tokens, cost, cost_source, recorded_cost, stop_reason, is_error, error_message, response_id, response_model, latency_ms, subscription, entry_id, source_id, tool_call_count) SELECT message_id, :gateway, session_id, agent_id, timestamp, role, model, provider, api, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, total_tokens, cost, cost_source, recorded_cost, stop_reason, is_error, error_message, response_id, response_model, latency_ms, subscription, entry_id, source_id, tool_call_count FROM messages;

DROP TABLE messages;

ALTER TABLE messages_m008 RENAME TO messages;

CREATE INDEX ix_messages_model_session ON messages (model, timestamp, session_id);

CREATE INDEX ix_messages_session ON messages (session_id, timestamp);

CREATE INDEX ix_messages_timestamp ON messages (timestamp);

CREATE TABLE message_occurrences_m008 (
	message_id VARCHAR NOT NULL, 
	source_id INTEGER NOT NULL, 
	gateway VARCHAR NOT NULL, 
	session_id VARCHAR NOT NULL, 
	PRIMARY KEY (message_id, source_id)
);

INSERT INTO message_occurrences_m008 (message_id, source_id, gateway, session_id) SELECT message_id, source_id, :gateway, session_id FROM message_occurrences;

DROP TABLE message_occurrences;

ALTER TABLE message_occurrences_m008 RENAME TO message_occurrences;

CREATE INDEX ix_occurrences_source ON message_occurrences (source_id);

CREATE TABLE pending_keys_m008 (
	message_id VARCHAR NOT NULL, 
	gateway VARCHAR NOT NULL, 
	CONSTRAINT pk_pending_keys PRIMARY KEY (message_id, gateway)
);

INSERT INTO pending_keys_m008 (message_id, gateway) SELECT message_id, :gateway FROM pending_keys;

DROP TABLE pending_keys;

ALTER TABLE pending_keys_m008 RENAME TO pending_keys;

CREATE TABLE tool_calls_m008 (
	id INTEGER NOT NULL, 
	tool_call_id VARCHAR NOT NULL, 
	gateway VARCHAR NOT NULL, 
	tool_name VARCHAR NOT NULL, 
	bridge_name VARCHAR, 
	session_id VARCHAR NOT NULL, 
	message_id VARCHAR NOT NULL, 
	timestamp DATETIME NOT NULL, 
	is_error BOOLEAN, 
	duration_ms INTEGER, 
	call_index INTEGER DEFAULT '0' NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_tool_calls_message_index UNIQUE (message_id, gateway, call_index)
);

INSERT INTO tool_calls_m008 (id, tool_call_id, gateway, tool_name, bridge_name, session_id, message_id, timestamp, is_error, duration_ms, call_index) SELECT id, tool_call_id, :gateway, tool_name, bridge_name, session_id, message_id, timestamp, is_error, duration_ms, call_index FROM tool_calls;

DROP TABLE tool_calls;

ALTER TABLE tool_calls_m008 RENAME TO tool_calls;

CREATE INDEX ix_tool_calls_name_outcome ON tool_calls (tool_name, timestamp, session_id, is_error);

CREATE INDEX ix_tool_calls_open ON tool_calls (tool_call_id) WHERE is_error IS NULL;

CREATE INDEX ix_tool_calls_session ON tool_calls (session_id);

CREATE INDEX ix_tool_calls_timestamp ON tool_calls (timestamp);

CREATE TABLE tool_results_m008 (
	id INTEGER NOT NULL, 
	gateway VARCHAR NOT NULL, 
	session_id VARCHAR NOT NULL, 
	tool_call_id VARCHAR NOT NULL, 
	is_error BOOLEAN NOT NULL, 
	timestamp DATETIME, 
	duration_ms INTEGER, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_tool_results_answer UNIQUE (gateway, session_id, tool_call_id, timestamp)
);

INSERT INTO tool_results_m008 (id, gateway, session_id, tool_call_id, is_error, timestamp, duration_ms) SELECT id, :gateway, session_id, tool_call_id, is_error, timestamp, duration_ms FROM tool_results;

DROP TABLE tool_results;

ALTER TABLE tool_results_m008 RENAME TO tool_results;

CREATE TABLE session_events_m008 (
	id INTEGER NOT NULL, 
	session_id VARCHAR NOT NULL, 
	gateway VARCHAR NOT NULL, 
	source_id INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	timestamp DATETIME, 
	kind VARCHAR NOT NULL, 
	value VARCHAR, 
	tokens_before BIGINT, 
	tokens_after BIGINT, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_session_events_place UNIQUE (source_id, position)
);

INSERT INTO session_events_m008 (id, session_id, gateway, source_id, position, timestamp, kind, value, tokens_before, tokens_after) SELECT id, session_id, :gateway, source_id, position, timestamp, kind, value, tokens_before, tokens_after FROM session_events;

DROP TABLE session_events;

ALTER TABLE session_events_m008 RENAME TO session_events;

CREATE INDEX ix_session_events_session ON session_events (session_id, timestamp);

CREATE TABLE sources_m008 (
	source_id INTEGER NOT NULL, 
	gateway VARCHAR NOT NULL, 
	path TEXT NOT NULL, 
	rel_path TEXT NOT NULL, 
	kind VARCHAR NOT NULL, 
	agent_id VARCHAR, 
	session_id VARCHAR, 
	device BIGINT, 
	inode BIGINT, 
	size BIGINT DEFAULT '0' NOT NULL, 
	mtime_ns BIGINT DEFAULT '0' NOT NULL, 
	read_offset BIGINT DEFAULT '0' NOT NULL, 
	line_no INTEGER DEFAULT '0' NOT NULL, 
	head_hash VARCHAR, 
	tail_hash VARCHAR, 
	present BOOLEAN DEFAULT '1' NOT NULL, 
	header_time DATETIME, 
	first_time DATETIME, 
	last_time DATETIME, 
	thinking_level VARCHAR, 
	thinking_time DATETIME, 
	parent_session TEXT, 
	marker_kind VARCHAR, 
	marker_cron_job_id VARCHAR, 
	marker_cron_job_name VARCHAR, 
	user_seen BOOLEAN DEFAULT '0' NOT NULL, 
	model_state VARCHAR, 
	provider_state VARCHAR, 
	first_seen_at DATETIME, 
	last_read_at DATETIME, 
	PRIMARY KEY (source_id), 
	CONSTRAINT uq_sources_path UNIQUE (gateway, path)
);

INSERT INTO sources_m008 (source_id, gateway, path, rel_path, kind, agent_id, session_id, device, inode, size, mtime_ns, read_offset, line_no, head_hash, tail_hash, present, header_time, first_time, last_time, thinking_level, thinking_time, parent_session, marker_kind, marker_cron_job_id, marker_cron_job_name, user_seen, model_state, provider_state, first_seen_at, last_read_at) SELECT source_id, :gateway, path, rel_path, kind, agent_id, session_id, device, inode, size, mtime_ns, read_offset, line_no, head_hash, tail_hash, present, header_time, first_time, last_time, thinking_level, thinking_time, parent_session, marker_kind, marker_cron_job_id, marker_cron_job_name, user_seen, model_state, provider_state, first_seen_at, last_read_at FROM sources;

DROP TABLE sources;

ALTER TABLE sources_m008 RENAME TO sources;

CREATE INDEX ix_sources_inode ON sources (device, inode);

CREATE INDEX ix_sources_session ON sources (session_id);

CREATE TABLE session_attribution_m008 (
	session_id VARCHAR NOT NULL, 
	gateway VARCHAR NOT NULL, 
	agent_id VARCHAR, 
	session_key VARCHAR, 
	kind VARCHAR, 
	cron_job_id VARCHAR, 
	cron_job_name VARCHAR, 
	parent_session_key VARCHAR, 
	channel VARCHAR, 
	label VARCHAR, 
	spawn_depth INTEGER, 
	learned_from VARCHAR, 
	updated_at DATETIME, 
	CONSTRAINT pk_session_attribution PRIMARY KEY (session_id, gateway)
);

INSERT INTO session_attribution_m008 (session_id, gateway, agent_id, session_key, kind, cron_job_id, cron_job_name, parent_session_key, channel, label, spawn_depth, learned_from, updated_at) SELECT session_id, :gateway, agent_id, session_key, kind, cron_job_id, cron_job_name, parent_session_key, channel, label, spawn_depth, learned_from, updated_at FROM session_attribution;

DROP TABLE session_attribution;

ALTER TABLE session_attribution_m008 RENAME TO session_attribution;

CREATE INDEX ix_attribution_key ON session_attribution (session_key);

CREATE TABLE cron_jobs_m008 (
	job_id VARCHAR NOT NULL, 
	gateway VARCHAR NOT NULL, 
	agent_id VARCHAR, 
	name VARCHAR, 
	schedule VARCHAR, 
	updated_at DATETIME, 
	CONSTRAINT pk_cron_jobs PRIMARY KEY (job_id, gateway)
);

INSERT INTO cron_jobs_m008 (job_id, gateway, agent_id, name, schedule, updated_at) SELECT job_id, :gateway, agent_id, name, schedule, updated_at FROM cron_jobs;

DROP TABLE cron_jobs;

ALTER TABLE cron_jobs_m008 RENAME TO cron_jobs;

CREATE TABLE ingest_runs_m008 (
	run_id INTEGER NOT NULL, 
	gateway VARCHAR NOT NULL, 
	started_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	status VARCHAR NOT NULL, 
	changed BOOLEAN DEFAULT '0' NOT NULL, 
	sources_read INTEGER DEFAULT '0' NOT NULL, 
	new_calls INTEGER DEFAULT '0' NOT NULL, 
	issues INTEGER DEFAULT '0' NOT NULL, 
	summary_json TEXT, 
	PRIMARY KEY (run_id)
);

INSERT INTO ingest_runs_m008 (run_id, gateway, started_at, finished_at, status, changed, sources_read, new_calls, issues, summary_json) SELECT run_id, :gateway, started_at, finished_at, status, changed, sources_read, new_calls, issues, summary_json FROM ingest_runs;

DROP TABLE ingest_runs;

ALTER TABLE ingest_runs_m008 RENAME TO ingest_runs;

DROP TABLE usage_quarter_hours;

CREATE TABLE usage_quarter_hours (
	bucket DATETIME NOT NULL, 
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

INSERT INTO usage_quarter_hours (bucket, gateway, agent, model, provider, kind, calls, errors, input, output, cache_read, cache_write, cost, estimated_cost, unpriced_calls, unpriced_tokens, subscription_cost, tool_calls) SELECT (substr(messages.timestamp, 1, 14) || CASE WHEN (substr(messages.timestamp, 15, 2) < '15') THEN '00' WHEN (substr(messages.timestamp, 15, 2) < '30') THEN '15' WHEN (substr(messages.timestamp, 15, 2) < '45') THEN '30' ELSE '45' END) || '\:00.000000' AS anon_1, messages.gateway, coalesce(messages.agent_id, '(none)') AS agent, coalesce(messages.model, '(none)') AS model, coalesce(messages.provider, '(none)') AS provider, sessions.kind, count(*) AS calls, coalesce(sum(CAST(messages.is_error AS INTEGER)), 0) AS errors, coalesce(sum(messages.input_tokens), 0) AS input, coalesce(sum(messages.output_tokens), 0) AS output, coalesce(sum(messages.cache_read_tokens), 0) AS cache_read, coalesce(sum(messages.cache_write_tokens), 0) AS cache_write, coalesce(sum(messages.cost), 0) AS cost, coalesce(sum(messages.cost * CASE WHEN (messages.cost_source = 'estimated') THEN 1 ELSE 0 END), 0) AS estimated_cost, coalesce(sum(CASE WHEN (messages.cost_source = 'unpriced') THEN 1 ELSE 0 END), 0) AS unpriced_calls, coalesce(sum((messages.input_tokens + messages.output_tokens + messages.cache_read_tokens + messages.cache_write_tokens) * CASE WHEN (messages.cost_source = 'unpriced') THEN 1 ELSE 0 END), 0) AS unpriced_tokens, coalesce(sum(messages.cost * CAST(messages.subscription AS INTEGER)), 0) AS subscription_cost, coalesce(sum(messages.tool_call_count), 0) AS tool_calls 
FROM messages LEFT OUTER JOIN sessions ON sessions.session_id = messages.session_id AND sessions.gateway = messages.gateway GROUP BY 1, 2, 3, 4, 5, 6;
