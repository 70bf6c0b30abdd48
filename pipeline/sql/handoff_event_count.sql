-- report, investigate: how many hand-off events the run stored (0: no hand-off export).
SELECT count(*) AS events FROM handoff_events;
