ALTER TABLE parse_issues ADD COLUMN gateway VARCHAR;

UPDATE parse_issues SET gateway = coalesce((SELECT sources.gateway FROM sources WHERE sources.source_id = parse_issues.source_id), :gateway);

ALTER TABLE parse_issues ALTER COLUMN gateway SET NOT NULL;
