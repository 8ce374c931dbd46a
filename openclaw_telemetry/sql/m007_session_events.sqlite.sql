CREATE TABLE session_events (
	id INTEGER NOT NULL, 
	session_id VARCHAR NOT NULL, 
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

CREATE INDEX ix_session_events_session ON session_events (session_id, timestamp)
