-- Reason ids and titles, in the taxonomy's display order.
SELECT reason_id, title, reserved, active
FROM reasons
ORDER BY "order", reason_id;
