-- Per reason and week: the assigned count and the volume corrected for the model's errors with
-- its interval (report).
SELECT *
FROM weekly_estimated;
