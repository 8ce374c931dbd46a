CREATE TABLE tool_calls_m003 (
	id INTEGER NOT NULL, 
	tool_call_id VARCHAR NOT NULL, 
	tool_name VARCHAR NOT NULL, 
	bridge_name VARCHAR, 
	session_id VARCHAR NOT NULL, 
	message_id VARCHAR NOT NULL, 
	timestamp DATETIME NOT NULL, 
	is_error BOOLEAN, 
	duration_ms INTEGER, 
	call_index INTEGER DEFAULT '0' NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_tool_calls_message_index UNIQUE (message_id, call_index)
);

INSERT INTO tool_calls_m003 (id, tool_call_id, tool_name, bridge_name, session_id, message_id,
                             timestamp, is_error, duration_ms, call_index)
SELECT id, tool_call_id, tool_name, bridge_name, session_id, message_id, timestamp, is_error,
       duration_ms, ROW_NUMBER() OVER (PARTITION BY message_id ORDER BY id) - 1
FROM tool_calls;

DROP TABLE tool_calls;

ALTER TABLE tool_calls_m003 RENAME TO tool_calls;

CREATE INDEX ix_tool_calls_name ON tool_calls (tool_name, timestamp);

CREATE INDEX ix_tool_calls_open ON tool_calls (tool_call_id) WHERE is_error IS NULL;

CREATE INDEX ix_tool_calls_session ON tool_calls (session_id);

CREATE INDEX ix_tool_calls_timestamp ON tool_calls (timestamp);

ALTER TABLE tool_results RENAME TO tool_results_m002;

CREATE TABLE tool_results (
	id INTEGER NOT NULL, 
	session_id VARCHAR NOT NULL, 
	tool_call_id VARCHAR NOT NULL, 
	is_error BOOLEAN NOT NULL, 
	timestamp DATETIME, 
	duration_ms INTEGER, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_tool_results_answer UNIQUE (session_id, tool_call_id, timestamp)
);

INSERT INTO tool_results (session_id, tool_call_id, is_error, timestamp, duration_ms)
SELECT '', tool_call_id, is_error, timestamp, duration_ms FROM tool_results_m002;

DROP TABLE tool_results_m002;
