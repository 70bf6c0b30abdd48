-- The weekly facts as aggregate writes them to weekly.parquet. Tables read: weekly.
SELECT *
FROM weekly;
