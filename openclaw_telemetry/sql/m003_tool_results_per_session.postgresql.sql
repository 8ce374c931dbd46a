CREATE TABLE tool_results_m003 (
	session_id VARCHAR NOT NULL, 
	tool_call_id VARCHAR NOT NULL, 
	is_error BOOLEAN NOT NULL, 
	timestamp TIMESTAMP WITHOUT TIME ZONE, 
	duration_ms INTEGER, 
	PRIMARY KEY (session_id, tool_call_id)
);

INSERT INTO tool_results_m003 (session_id, tool_call_id, is_error, timestamp, duration_ms)
SELECT '', tool_call_id, is_error, timestamp, duration_ms FROM tool_results;

DROP TABLE tool_results;

ALTER TABLE tool_results_m003 RENAME TO tool_results;
