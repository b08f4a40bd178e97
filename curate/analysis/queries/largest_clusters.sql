-- Which near-duplicate groups are largest? Dedupe drops grouped by the kept record they matched (its id is the group), with the methods and best score.
SELECT a.matched_id AS kept_id, count(DISTINCT a.id) AS dropped, list(DISTINCT a.check_name ORDER BY a.check_name) AS methods,
       round(max(a.score), 4) AS best_score, any_value(k.instruction) AS kept_instruction
FROM annotations a LEFT JOIN raw k ON k.id = a.matched_id
WHERE a.stage = 'dedupe' AND a.action = 'drop' AND a.matched_id IS NOT NULL
GROUP BY a.matched_id
ORDER BY dropped DESC, kept_id
LIMIT 20
