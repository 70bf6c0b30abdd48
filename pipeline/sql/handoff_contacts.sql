-- The stored contacts a hand-off export refers to, by canonical or source id (ingest:
-- io/handoffs.py). Parameters: $files (the week parts kept by this run), $refs (the ids).
WITH refs AS (SELECT DISTINCT unnest($refs) AS ref)
SELECT contact_id, source_id, created_at
FROM read_parquet($files, hive_partitioning = false)
WHERE contact_id IN (SELECT ref FROM refs) OR source_id IN (SELECT ref FROM refs)
ORDER BY contact_id;
