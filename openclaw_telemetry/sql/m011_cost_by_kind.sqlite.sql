ALTER TABLE messages ADD COLUMN input_cost FLOAT;

ALTER TABLE messages ADD COLUMN output_cost FLOAT;

ALTER TABLE messages ADD COLUMN cache_read_cost FLOAT;

ALTER TABLE messages ADD COLUMN cache_write_cost FLOAT;
