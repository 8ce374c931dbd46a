UPDATE session_attribution SET label = NULL;
UPDATE session_attribution SET cron_job_name = NULL
WHERE COALESCE(kind, '') <> 'cron' AND COALESCE(session_key, '') NOT LIKE '%cron:%';
UPDATE sessions SET label = NULL, dirty = TRUE;
DELETE FROM meta WHERE key LIKE 'learned:%';
UPDATE sources SET size = -1, mtime_ns = -1 WHERE kind = 'sqlite:database'
