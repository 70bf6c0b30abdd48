-- SLA (aggregate): written requests received up to the report week, with what the SLA rule
-- needs (receipt and resolution times, status updates, local hour) and who owns them.
-- Parameters: $w (the report week). Tables read: contacts.
SELECT contact_id, iso_week, created_at AS received_at, resolved_at, status_updates,
       status_conflict, resolved_date_only, reason_id, owner_id, channel, local_hour
FROM contacts
WHERE kind = 'complaint' AND iso_week <= $w;
