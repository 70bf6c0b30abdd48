-- Closed loop (aggregate): all contacts of each ISO week, with or without text (the
-- denominator of a reason's share), and the week's customers from drivers.csv (of CPX).
-- Tables read: weekly.
SELECT iso_week, sum(contacts) AS total, any_value(customers) AS week_customers
FROM weekly
GROUP BY ALL;
