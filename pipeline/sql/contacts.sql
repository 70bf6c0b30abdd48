-- Every accepted contact with its reason: the fact table all other aggregates read.
-- Parameters: $contacts, $classified (globs of the week parts: pipeline/io/partitions.py),
-- $repeat_window_days.
-- Tables read: reasons (taxonomy), successors (retired id -> active successor),
-- handle_defaults (channel -> minutes), drivers.
CREATE OR REPLACE TABLE contacts AS
WITH joined AS (
    SELECT
        c.contact_id, c.source_id, c.kind, c.channel, c.created_at, c.created_local, c.iso_week,
        c.week_start, c.local_hour, c.queue, c.outcome, c.transfers, c.route, c.customer_id,
        c.resolved_at, c.resolved_local, c.status AS request_status, c.status_updates,
        c.resolved_date_only, c.status_conflict,
        c.handle_time_s, c.wait_time_s,
        -- a retired reason's contacts count under its successor, so history stays continuous
        coalesce(succ.successor, k.reason_id) AS reason_id, k.status AS class_status,
        k.confidence, k.top_reason_id, k.runner_up_id, k.runner_up_confidence,
        k.model_version, k.taxonomy_version, c.text,
        CASE
            WHEN c.kind = 'call' THEN coalesce(c.handle_time_s, 0) / 60.0
            ELSE coalesce(h.minutes, $default_handle_minutes)
        END AS handle_minutes
    FROM read_parquet($contacts, hive_partitioning = false) AS c
    LEFT JOIN read_parquet($classified, hive_partitioning = false) AS k USING (contact_id)
    LEFT JOIN handle_defaults AS h ON h.channel = c.channel
    LEFT JOIN successors AS succ ON succ.reason_id = k.reason_id
),
sequenced AS (
    SELECT
        *,
        lead(created_at) OVER customer_order AS next_at,
        lead(reason_id) OVER customer_order AS next_reason_id,
        lead(handle_minutes) OVER customer_order AS next_handle_minutes
    FROM joined
    WINDOW customer_order AS (PARTITION BY customer_id ORDER BY created_at, contact_id)
)
SELECT
    s.* EXCLUDE (next_at, next_reason_id, next_handle_minutes, text),
    r.title AS reason_title,
    r.owner_id,
    r.owner AS owner_title,
    s.handle_minutes * CAST($cost_per_minute AS DOUBLE) AS cost,
    -- a repeat: the same customer comes back within the window (a customer id is needed);
    -- false, not NULL, on a customer's last contact
    coalesce(
        s.customer_id IS NOT NULL
            AND s.next_at <= s.created_at + to_days(CAST($repeat_window_days AS INTEGER)),
        false
    ) AS repeated,
    -- the window is fully inside the data, so "no repeat" is known, not just not yet seen
    s.created_at + to_days(CAST($repeat_window_days AS INTEGER))
        <= (SELECT max(created_at) FROM joined) AS repeat_observed,
    CASE WHEN repeated THEN s.next_reason_id END AS repeat_reason_id,
    CASE WHEN repeated THEN s.next_handle_minutes * CAST($cost_per_minute AS DOUBLE) ELSE 0 END
        AS repeat_cost,
    -- masked of personal data at ingest
    s.text
FROM sequenced AS s
LEFT JOIN reasons AS r ON r.reason_id = s.reason_id
ORDER BY s.created_at, s.contact_id;
