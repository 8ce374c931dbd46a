CREATE TABLE parse_issues_m009 (
	id INTEGER NOT NULL, 
	gateway VARCHAR NOT NULL, 
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

INSERT INTO parse_issues_m009 (id, gateway, source_id, path, position, byte_offset, kind, detail, run_id) SELECT id, coalesce((SELECT sources.gateway FROM sources WHERE sources.source_id = parse_issues.source_id), :gateway), source_id, path, position, byte_offset, kind, detail, run_id FROM parse_issues;

DROP TABLE parse_issues;

ALTER TABLE parse_issues_m009 RENAME TO parse_issues;

CREATE INDEX ix_parse_issues_run ON parse_issues (run_id);
