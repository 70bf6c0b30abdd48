-- Whether the data holds any call (report: without calls there is no unanswered-calls section
-- and no transfers). Tables read: drops.
SELECT count(*) > 0 AS calls
FROM drops;
