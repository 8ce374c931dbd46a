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
	claimed_at DATETIME,
	sent_at DATETIME,
	resolved_at DATETIME,
	updated_at DATETIME NOT NULL,
	error TEXT,
	PRIMARY KEY (episode, target)
);
CREATE INDEX ix_notifications_state ON notifications (state)
