CREATE TABLE cron_jobs (
	job_id VARCHAR(200) NOT NULL, 
	agent_id VARCHAR(200), 
	name VARCHAR(300), 
	schedule VARCHAR(200), 
	updated_at DATETIME, 
	PRIMARY KEY (job_id)
);

CREATE TABLE ingest_runs (
	run_id INTEGER NOT NULL, 
	started_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	status VARCHAR(20) NOT NULL, 
	changed BOOLEAN DEFAULT '0' NOT NULL, 
	sources_read INTEGER DEFAULT '0' NOT NULL, 
	new_calls INTEGER DEFAULT '0' NOT NULL, 
	issues INTEGER DEFAULT '0' NOT NULL, 
	summary_json TEXT, 
	PRIMARY KEY (run_id)
);

CREATE TABLE message_occurrences (
	message_id VARCHAR(64) NOT NULL, 
	source_id INTEGER NOT NULL, 
	session_id VARCHAR(200) NOT NULL, 
	PRIMARY KEY (message_id, source_id)
);

CREATE INDEX ix_occurrences_source ON message_occurrences (source_id);

CREATE TABLE messages (
	message_id VARCHAR(64) NOT NULL, 
	session_id VARCHAR(200) NOT NULL, 
	agent_id VARCHAR(200), 
	timestamp DATETIME NOT NULL, 
	role VARCHAR(20) DEFAULT 'assistant' NOT NULL, 
	model VARCHAR(200), 
	provider VARCHAR(200), 
	api VARCHAR(100), 
	input_tokens BIGINT DEFAULT '0' NOT NULL, 
	output_tokens BIGINT DEFAULT '0' NOT NULL, 
	cache_read_tokens BIGINT DEFAULT '0' NOT NULL, 
	cache_write_tokens BIGINT DEFAULT '0' NOT NULL, 
	total_tokens BIGINT DEFAULT '0' NOT NULL, 
	cost FLOAT DEFAULT '0' NOT NULL, 
	cost_source VARCHAR(20) NOT NULL, 
	recorded_cost FLOAT, 
	stop_reason VARCHAR(40), 
	is_error BOOLEAN DEFAULT '0' NOT NULL, 
	error_message TEXT, 
	response_id VARCHAR(300), 
	response_model VARCHAR(200), 
	latency_ms INTEGER, 
	subscription BOOLEAN DEFAULT '0' NOT NULL, 
	entry_id VARCHAR(100), 
	source_id INTEGER, 
	tool_call_count INTEGER DEFAULT '0' NOT NULL, 
	PRIMARY KEY (message_id)
);

CREATE INDEX ix_messages_agent ON messages (agent_id, timestamp);

CREATE INDEX ix_messages_model ON messages (model, timestamp);

CREATE INDEX ix_messages_session ON messages (session_id, timestamp);

CREATE INDEX ix_messages_timestamp ON messages (timestamp);

CREATE TABLE meta (
	"key" VARCHAR(100) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);

CREATE TABLE parse_issues (
	id INTEGER NOT NULL, 
	source_id INTEGER NOT NULL, 
	path TEXT NOT NULL, 
	position INTEGER NOT NULL, 
	byte_offset BIGINT, 
	kind VARCHAR(40) NOT NULL, 
	detail TEXT, 
	run_id INTEGER, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_parse_issues_place UNIQUE (source_id, position, kind)
);

CREATE INDEX ix_parse_issues_run ON parse_issues (run_id);

CREATE TABLE pending_keys (
	message_id VARCHAR(64) NOT NULL, 
	PRIMARY KEY (message_id)
);

CREATE TABLE session_attribution (
	session_id VARCHAR(200) NOT NULL, 
	agent_id VARCHAR(200), 
	session_key VARCHAR(500), 
	kind VARCHAR(20), 
	cron_job_id VARCHAR(200), 
	cron_job_name VARCHAR(300), 
	parent_session_key VARCHAR(500), 
	channel VARCHAR(100), 
	label VARCHAR(300), 
	spawn_depth INTEGER, 
	learned_from VARCHAR(40), 
	updated_at DATETIME, 
	PRIMARY KEY (session_id)
);

CREATE INDEX ix_attribution_key ON session_attribution (session_key);

CREATE TABLE sessions (
	session_id VARCHAR(200) NOT NULL, 
	agent_id VARCHAR(200), 
	session_key VARCHAR(500), 
	kind VARCHAR(20) DEFAULT 'unknown' NOT NULL, 
	start_time DATETIME, 
	end_time DATETIME, 
	model VARCHAR(200), 
	provider VARCHAR(200), 
	thinking_level VARCHAR(40), 
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
	cron_job_id VARCHAR(200), 
	cron_job_name VARCHAR(300), 
	parent_session_key VARCHAR(500), 
	parent_session_id VARCHAR(200), 
	channel VARCHAR(100), 
	label VARCHAR(300), 
	spawn_depth INTEGER, 
	updated_at DATETIME, 
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
	source_id INTEGER NOT NULL, 
	path TEXT NOT NULL, 
	rel_path TEXT NOT NULL, 
	kind VARCHAR(40) NOT NULL, 
	agent_id VARCHAR(200), 
	session_id VARCHAR(200), 
	device BIGINT, 
	inode BIGINT, 
	size BIGINT DEFAULT '0' NOT NULL, 
	mtime_ns BIGINT DEFAULT '0' NOT NULL, 
	read_offset BIGINT DEFAULT '0' NOT NULL, 
	line_no INTEGER DEFAULT '0' NOT NULL, 
	head_hash VARCHAR(64), 
	tail_hash VARCHAR(64), 
	present BOOLEAN DEFAULT '1' NOT NULL, 
	header_time DATETIME, 
	first_time DATETIME, 
	last_time DATETIME, 
	thinking_level VARCHAR(40), 
	thinking_time DATETIME, 
	parent_session TEXT, 
	marker_kind VARCHAR(20), 
	marker_cron_job_id VARCHAR(200), 
	marker_cron_job_name VARCHAR(300), 
	user_seen BOOLEAN DEFAULT '0' NOT NULL, 
	model_state VARCHAR(200), 
	provider_state VARCHAR(200), 
	first_seen_at DATETIME, 
	last_read_at DATETIME, 
	PRIMARY KEY (source_id), 
	UNIQUE (path)
);

CREATE INDEX ix_sources_inode ON sources (device, inode);

CREATE INDEX ix_sources_session ON sources (session_id);

CREATE TABLE tool_calls (
	id INTEGER NOT NULL, 
	tool_call_id VARCHAR(300) NOT NULL, 
	tool_name VARCHAR(200) NOT NULL, 
	bridge_name VARCHAR(200), 
	session_id VARCHAR(200) NOT NULL, 
	message_id VARCHAR(64) NOT NULL, 
	timestamp DATETIME NOT NULL, 
	is_error BOOLEAN, 
	duration_ms INTEGER, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_tool_calls_message_call UNIQUE (message_id, tool_call_id)
);

CREATE INDEX ix_tool_calls_call_id ON tool_calls (tool_call_id);

CREATE INDEX ix_tool_calls_name ON tool_calls (tool_name, timestamp);

CREATE INDEX ix_tool_calls_session ON tool_calls (session_id);

CREATE INDEX ix_tool_calls_timestamp ON tool_calls (timestamp);

CREATE TABLE tool_results (
	tool_call_id VARCHAR(300) NOT NULL, 
	is_error BOOLEAN NOT NULL, 
	timestamp DATETIME, 
	duration_ms INTEGER, 
	PRIMARY KEY (tool_call_id)
);

