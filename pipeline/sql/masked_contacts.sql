-- The warehouse's contacts table (aggregate): every contact with its text masked of personal
-- data (masked_df: contact_id, text), in time order.
CREATE OR REPLACE TABLE contacts AS
SELECT c.*, m.text
FROM contacts AS c
LEFT JOIN masked_df AS m USING (contact_id)
ORDER BY c.created_at, c.contact_id;
