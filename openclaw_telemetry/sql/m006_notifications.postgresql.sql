CREATE TABLE notifications (
	episode VARCHAR NOT NULL,
	target VARCHAR NOT NULL,
	target_label VARCHAR NOT NULL,
	kind VARCHAR NOT NULL,
	severity VARCHAR NOT NULL,
	title TEXT NOT NULL,
	body TEXT NOT NULL,
	state VARCHAR NOT NULL,
	attempts INTEGER DEFAULT '0' NOT NULL,
	claimed_at TIMESTAMP WITHOUT TIME ZONE,
	sent_at TIMESTAMP WITHOUT TIME ZONE,
	resolved_at TIMESTAMP WITHOUT TIME ZONE,
	updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	error TEXT,
	PRIMARY KEY (episode, target)
);
CREATE INDEX ix_notifications_state ON notifications (state)
