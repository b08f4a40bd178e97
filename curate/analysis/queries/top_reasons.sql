-- Which checks touched the most records, and with what action? Records per stage, check and action, most first.
SELECT stage, check_name, category, action, count(DISTINCT id) AS records
FROM annotations
GROUP BY ALL
ORDER BY records DESC, stage, check_name, action
