-- Closed loop (aggregate): all contacts of each ISO week, with or without text: the
-- denominator of a reason's share. Tables read: weekly.
SELECT iso_week, sum(contacts) AS total
FROM weekly
GROUP BY ALL;
