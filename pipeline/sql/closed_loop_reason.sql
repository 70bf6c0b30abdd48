-- One reason's closed-loop row for the report week: volume, expectation, spike, trend, note.
-- Parameters: $reason_id.
SELECT
    report_week, reason_id, title, owner, contacts, prev_week, wow_change, mean4, change_4w,
    expected, spike_p_value, is_spike, trend_verdict, trend_ru, trend_slope_pct,
    note_week, note_explanation, note_action, flag
FROM closed_loop
WHERE reason_id = $reason_id;
