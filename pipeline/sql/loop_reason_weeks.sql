-- Closed loop (aggregate): contacts per reason and ISO week up to the report week, for the
-- trend and spike tests. Contacts without text (reason NULL) are not a reason's.
-- Parameters: $w (the report week). Tables read: weekly.
SELECT reason_id, iso_week AS week, sum(contacts)::BIGINT AS contacts
FROM weekly
WHERE reason_id IS NOT NULL AND iso_week <= $w
GROUP BY ALL;
