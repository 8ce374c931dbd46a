ALTER TABLE tool_calls ADD COLUMN call_index INTEGER DEFAULT '0' NOT NULL;

UPDATE tool_calls SET call_index = numbered.n
FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY message_id ORDER BY id) - 1 AS n
      FROM tool_calls) AS numbered
WHERE numbered.id = tool_calls.id AND numbered.n > 0;

ALTER TABLE tool_calls DROP CONSTRAINT uq_tool_calls_message_call;

ALTER TABLE tool_calls ADD CONSTRAINT uq_tool_calls_message_index UNIQUE (message_id, call_index);

ALTER TABLE tool_results RENAME TO tool_results_m002;

ALTER TABLE tool_results_m002 RENAME CONSTRAINT tool_results_pkey TO tool_results_m002_pkey;

CREATE TABLE tool_results (
	id SERIAL NOT NULL, 
	session_id VARCHAR NOT NULL, 
	tool_call_id VARCHAR NOT NULL, 
	is_error BOOLEAN NOT NULL, 
	timestamp TIMESTAMP WITHOUT TIME ZONE, 
	duration_ms INTEGER, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_tool_results_answer UNIQUE (session_id, tool_call_id, timestamp)
);

INSERT INTO tool_results (session_id, tool_call_id, is_error, timestamp, duration_ms)
SELECT '', tool_call_id, is_error, timestamp, duration_ms FROM tool_results_m002;

DROP TABLE tool_results_m002;
