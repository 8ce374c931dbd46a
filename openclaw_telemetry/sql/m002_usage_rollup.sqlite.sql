CREATE TABLE usage_quarter_hours (
	bucket DATETIME NOT NULL, 
	agent VARCHAR NOT NULL, 
	model VARCHAR NOT NULL, 
	provider VARCHAR NOT NULL, 
	kind VARCHAR, 
	calls INTEGER NOT NULL, 
	errors INTEGER NOT NULL, 
	input BIGINT NOT NULL, 
	output BIGINT NOT NULL, 
	cache_read BIGINT NOT NULL, 
	cache_write BIGINT NOT NULL, 
	cost FLOAT NOT NULL, 
	estimated_cost FLOAT NOT NULL, 
	unpriced_calls INTEGER NOT NULL, 
	unpriced_tokens BIGINT NOT NULL, 
	subscription_cost FLOAT NOT NULL, 
	tool_calls INTEGER NOT NULL
);

CREATE INDEX ix_usage_bucket ON usage_quarter_hours (bucket);

