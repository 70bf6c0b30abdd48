-- A reason's written requests still open past their SLA deadline, oldest first (report).
-- Parameters: $reason_id.
SELECT contact_id, received_at, deadline_local, age_business_days, status_updates
FROM sla
WHERE reason_id = $reason_id AND open_past_deadline
ORDER BY age_business_days DESC, contact_id
LIMIT 10;
