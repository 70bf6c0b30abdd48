-- Closed loop (aggregate): per reason and ISO week, the sums the closed-loop figures divide:
-- contacts, cost, repeats and their base, answered calls, transfers, handle minutes, customers.
-- Tables read: weekly.
SELECT reason_id, iso_week, sum(contacts) AS contacts, sum(cost) AS cost,
       sum(repeat_observed) AS repeat_observed, sum(repeats) AS repeats,
       sum(repeat_cost) AS repeat_cost, sum(answered_calls) AS answered_calls,
       sum(transfers) AS transfers, sum(calls_2plus_transfers) AS calls_2plus,
       sum(handle_minutes) AS handle_minutes, any_value(customers) AS customers
FROM weekly
WHERE reason_id IS NOT NULL
GROUP BY ALL;
