-- investigate: every receiving department of the hand-off export.
SELECT DISTINCT department FROM handoffs ORDER BY department;
