-- Transfers between departments: each consecutive pair of queues in a call's route.
CREATE OR REPLACE TABLE transfer_pairs AS
WITH hops AS (
    SELECT iso_week, reason_id, string_split(route, ' > ') AS h
    FROM contacts
    WHERE kind = 'call' AND route IS NOT NULL AND transfers > 0
),
pairs AS (
    SELECT iso_week, reason_id, unnest(list_zip(h[1:len(h) - 1], h[2:len(h)])) AS pair
    FROM hops
)
SELECT
    iso_week,
    reason_id,
    pair[1] AS from_queue,
    pair[2] AS to_queue,
    count(*) AS transfers
FROM pairs
GROUP BY ALL
ORDER BY iso_week, reason_id NULLS LAST, transfers DESC, from_queue, to_queue;

-- Per department (every queue an answered call passed through, once per call): how often its
-- calls are passed around, and how often a call comes back to it after being sent away
-- (ping-pong). A call without a route was answered where it arrived and never transferred: it
-- visited its queue only, and counts in that queue's denominator.
CREATE OR REPLACE TABLE queue_transfers AS
WITH routes AS (
    SELECT
        contact_id, iso_week, coalesce(transfers, 0) AS transfers,
        string_split(coalesce(route, queue), ' > ') AS h
    FROM contacts
    WHERE kind = 'call' AND outcome = 'answered' AND coalesce(route, queue) IS NOT NULL
),
visits AS (
    SELECT DISTINCT contact_id, iso_week, transfers, h, unnest(h) AS queue FROM routes
)
SELECT
    iso_week,
    queue,
    count(*) AS calls,
    avg(transfers) AS mean_transfers,
    avg(CASE WHEN transfers >= 2 THEN 1.0 ELSE 0.0 END) AS share_2plus_transfers,
    avg(CASE WHEN len(list_filter(h, lambda x: x = queue)) > 1 THEN 1.0 ELSE 0.0 END)
        AS share_bounced_back
FROM visits
GROUP BY iso_week, queue
ORDER BY iso_week, queue;
