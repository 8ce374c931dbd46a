CREATE TABLE cron_jobs (
	job_id VARCHAR NOT NULL, 
	agent_id VARCHAR, 
	name VARCHAR, 
	schedule VARCHAR, 
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	PRIMARY KEY (job_id)
);

CREATE TABLE ingest_runs (
	run_id SERIAL NOT NULL, 
	started_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	finished_at TIMESTAMP WITHOUT TIME ZONE, 
	status VARCHAR NOT NULL, 
	changed BOOLEAN DEFAULT '0' NOT NULL, 
	sources_read INTEGER DEFAULT '0' NOT NULL, 
	new_calls INTEGER DEFAULT '0' NOT NULL, 
	issues INTEGER DEFAULT '0' NOT NULL, 
	summary_json TEXT, 
	PRIMARY KEY (run_id)
);

CREATE TABLE message_occurrences (
	message_id VARCHAR NOT NULL, 
	source_id INTEGER NOT NULL, 
	session_id VARCHAR NOT NULL, 
	PRIMARY KEY (message_id, source_id)
);

CREATE INDEX ix_occurrences_source ON message_occurrences (source_id);

CREATE TABLE messages (
	message_id VARCHAR NOT NULL, 
	session_id VARCHAR NOT NULL, 
	agent_id VARCHAR, 
	timestamp TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
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
	PRIMARY KEY (message_id)
);

CREATE INDEX ix_messages_model ON messages (model, timestamp);

CREATE INDEX ix_messages_session ON messages (session_id, timestamp);

CREATE INDEX ix_messages_timestamp ON messages (timestamp);

CREATE TABLE meta (
	key VARCHAR NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY (key)
);

CREATE TABLE parse_issues (
	id SERIAL NOT NULL, 
	source_id INTEGER NOT NULL, 
	path TEXT NOT NULL, 
	position INTEGER NOT NULL, 
	byte_offset BIGINT, 
	kind VARCHAR NOT NULL, 
	detail TEXT, 
	run_id INTEGER, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_parse_issues_place UNIQUE (source_id, position, kind)
);

CREATE INDEX ix_parse_issues_run ON parse_issues (run_id);

CREATE TABLE pending_keys (
	message_id VARCHAR NOT NULL, 
	PRIMARY KEY (message_id)
);

CREATE TABLE session_attribution (
	session_id VARCHAR NOT NULL, 
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
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	PRIMARY KEY (session_id)
);

CREATE INDEX ix_attribution_key ON session_attribution (session_key);

CREATE TABLE sessions (
	session_id VARCHAR NOT NULL, 
	agent_id VARCHAR, 
	session_key VARCHAR, 
	kind VARCHAR DEFAULT 'unknown' NOT NULL, 
	start_time TIMESTAMP WITHOUT TIME ZONE, 
	end_time TIMESTAMP WITHOUT TIME ZONE, 
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
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	dirty BOOLEAN DEFAULT '0' NOT NULL, 
	PRIMARY KEY (session_id)
);

CREATE INDEX ix_sessions_agent ON sessions (agent_id);

CREATE INDEX ix_sessions_cost ON sessions (total_cost);

CREATE INDEX ix_sessions_dirty ON sessions (dirty);

CREATE INDEX ix_sessions_key ON sessions (session_key);

CREATE INDEX ix_sessions_kind ON sessions (kind);

CREATE INDEX ix_sessions_start_time ON sessions (start_time);

CREATE TABLE sources (
	source_id SERIAL NOT NULL, 
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
	header_time TIMESTAMP WITHOUT TIME ZONE, 
	first_time TIMESTAMP WITHOUT TIME ZONE, 
	last_time TIMESTAMP WITHOUT TIME ZONE, 
	thinking_level VARCHAR, 
	thinking_time TIMESTAMP WITHOUT TIME ZONE, 
	parent_session TEXT, 
	marker_kind VARCHAR, 
	marker_cron_job_id VARCHAR, 
	marker_cron_job_name VARCHAR, 
	user_seen BOOLEAN DEFAULT '0' NOT NULL, 
	model_state VARCHAR, 
	provider_state VARCHAR, 
	first_seen_at TIMESTAMP WITHOUT TIME ZONE, 
	last_read_at TIMESTAMP WITHOUT TIME ZONE, 
	PRIMARY KEY (source_id), 
	UNIQUE (path)
);

CREATE INDEX ix_sources_inode ON sources (device, inode);

CREATE INDEX ix_sources_session ON sources (session_id);

CREATE TABLE tool_calls (
	id SERIAL NOT NULL, 
	tool_call_id VARCHAR NOT NULL, 
	tool_name VARCHAR NOT NULL, 
	bridge_name VARCHAR, 
	session_id VARCHAR NOT NULL, 
	message_id VARCHAR NOT NULL, 
	timestamp TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	is_error BOOLEAN, 
	duration_ms INTEGER, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_tool_calls_message_call UNIQUE (message_id, tool_call_id)
);

CREATE INDEX ix_tool_calls_name ON tool_calls (tool_name, timestamp);

CREATE INDEX ix_tool_calls_open ON tool_calls (tool_call_id) WHERE is_error IS NULL;

CREATE INDEX ix_tool_calls_session ON tool_calls (session_id);

CREATE INDEX ix_tool_calls_timestamp ON tool_calls (timestamp);

CREATE TABLE tool_results (
	tool_call_id VARCHAR NOT NULL, 
	is_error BOOLEAN NOT NULL, 
	timestamp TIMESTAMP WITHOUT TIME ZONE, 
	duration_ms INTEGER, 
	PRIMARY KEY (tool_call_id)
);

